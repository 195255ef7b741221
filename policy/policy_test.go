package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/vulndb"
)

func finding(pkg, purl, ver, id, sev string, fixed ...string) match.Finding {
	f := match.Finding{ID: id, PkgName: pkg, PkgPurl: purl, InstalledVersion: ver, Severity: sev, Status: vulndb.StatusAffected}
	if len(fixed) > 0 {
		f.FixedVersions, f.FixedVersion, f.Status = fixed, fixed[0], vulndb.StatusFixed
	}
	return f
}

func sample() *report.Report {
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Results: []report.Result{
			{Target: "demo (alpine 3.19.0)", Class: "os-pkgs", Type: "alpine", Vulnerabilities: []match.Finding{
				finding("libcrypto3", "pkg:apk/alpine/libcrypto3@3.1.4-r1?arch=x86_64&distro=3.19.0", "3.1.4-r1", "CVE-2023-6129", "MEDIUM", "3.1.4-r3"),
				finding("libcrypto3", "pkg:apk/alpine/libcrypto3@3.1.4-r1?arch=x86_64&distro=3.19.0", "3.1.4-r1", "CVE-2023-6237", "MEDIUM", "3.1.4-r4"),
				finding("libcrypto3", "pkg:apk/alpine/libcrypto3@3.1.4-r1?arch=x86_64&distro=3.19.0", "3.1.4-r1", "CVE-2024-0727", "MEDIUM", "3.1.4-r5"),
				finding("libssl3", "pkg:apk/alpine/libssl3@3.1.4-r1?arch=x86_64&distro=3.19.0", "3.1.4-r1", "CVE-2024-0727", "MEDIUM", "3.1.4-r5"),
				finding("busybox", "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=3.19.0", "1.36.1-r15", "CVE-2099-0001", "LOW"),
			}},
			{Target: "app/package-lock.json", Class: "lang-pkgs", Type: "npm", Vulnerabilities: []match.Finding{
				finding("lodash", "pkg:npm/lodash@4.17.20", "4.17.20", "CVE-2021-23337", "HIGH", "4.17.21"),
				finding("minimist", "pkg:npm/minimist@1.2.5", "1.2.5", "CVE-2021-44906", "CRITICAL", "0.2.4", "1.2.6"),
			}},
		},
	}
	r.Results[1].Vulnerabilities[0].Aliases = []string{"GHSA-35jh-r3h4-6jhm"}
	r.Results[1].Vulnerabilities[1].Aliases = []string{"GHSA-xvch-5gv4-984h"}
	r.Results[1].Vulnerabilities[0].Reachability = match.Unreachable
	r.Results[1].Vulnerabilities[0].KEV = &vulndb.KEV{DateAdded: "2024-01-01"}
	r.Results[0].Vulnerabilities[0].EPSS = &vulndb.EPSS{Score: 0.2, Percentile: 0.96}
	r.Results[0].Vulnerabilities[3].EPSS = &vulndb.EPSS{Score: 0.1, Percentile: 0.95}
	r.Results[1].Vulnerabilities[1].EPSS = &vulndb.EPSS{Score: 0.05, Percentile: 0.93}
	// The OS packages came with the base image.
	r.Artifact.Type = inventory.TypeContainerImage
	r.Artifact.Base = &inventory.Base{Name: "alpine:3.19", Layers: 1, IdentifiedBy: []string{inventory.BaseByHistory}}
	for i := range r.Results[0].Vulnerabilities {
		r.Results[0].Vulnerabilities[i].Layer = inventory.LayerRef{DiffID: "sha256:aa", Base: true}
	}
	return r
}

// live lists "pkg/id" of findings that survive and are not suppressed.
func live(r *report.Report) []string {
	var out []string
	for _, res := range r.Results {
		for _, f := range res.Vulnerabilities {
			if f.Suppressed == nil {
				out = append(out, f.PkgName+"/"+f.ID)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestApply(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		opts     Options
		want     []string
		wantExit int
	}{
		{"no policy", Options{}, []string{"busybox/CVE-2099-0001", "libcrypto3/CVE-2023-6129", "libcrypto3/CVE-2023-6237", "libcrypto3/CVE-2024-0727", "libssl3/CVE-2024-0727", "lodash/CVE-2021-23337", "minimist/CVE-2021-44906"}, 0},
		{"gate high critical", Options{Filter: Filter{Severities: []string{"HIGH", "CRITICAL"}}, ExitCode: 1}, []string{"lodash/CVE-2021-23337", "minimist/CVE-2021-44906"}, 1},
		{"ignore unfixed", Options{Filter: Filter{IgnoreUnfixed: true, Severities: []string{"LOW"}}, ExitCode: 1}, nil, 0},
		{"ignore unreachable", Options{Filter: Filter{IgnoreUnreachable: true, Severities: []string{"HIGH", "CRITICAL"}}, ExitCode: 1}, []string{"minimist/CVE-2021-44906"}, 1},
		{"ignore status", Options{Filter: Filter{IgnoreStatuses: []vulndb.Status{vulndb.StatusFixed}}, ExitCode: 4}, []string{"busybox/CVE-2099-0001"}, 4},
		{"plain ignore file", Options{IgnoreFile: "testdata/plain.vigilignore", Filter: Filter{Severities: []string{"HIGH", "CRITICAL"}}, ExitCode: 1}, nil, 0},
		{"scoped yaml ignore, expired entry applies no more", Options{IgnoreFile: "testdata/scoped.yaml", Filter: Filter{Severities: []string{"MEDIUM"}}}, []string{"libcrypto3/CVE-2023-6129", "libcrypto3/CVE-2023-6237", "libcrypto3/CVE-2024-0727"}, 0},
		{"openvex", Options{VEX: []string{"testdata/openvex.json"}, Filter: Filter{Severities: []string{"CRITICAL", "MEDIUM"}}}, []string{"libcrypto3/CVE-2023-6129", "libcrypto3/CVE-2023-6237", "libcrypto3/CVE-2024-0727", "libssl3/CVE-2024-0727"}, 0},
		{"cyclonedx vex", Options{VEX: []string{"testdata/cdx-vex.json"}, Filter: Filter{Severities: []string{"HIGH"}}, ExitCode: 1}, nil, 0},
		{"missing optional ignore file", Options{IgnoreFile: "testdata/absent", IgnoreFileOptional: true, Filter: Filter{Severities: []string{"CRITICAL"}}, ExitCode: 1}, []string{"minimist/CVE-2021-44906"}, 1},
		// Exploitation: lodash is in KEV; libcrypto3 CVE-2023-6129 has
		// EPSS 0.2 (percentile 0.96), minimist 0.05 (0.93), libssl3
		// CVE-2024-0727 0.1 exactly (0.95).
		{"kev", Options{Filter: Filter{KEV: true}, ExitCode: 1}, []string{"lodash/CVE-2021-23337"}, 1},
		{"min epss", Options{Filter: Filter{MinEPSS: 0.1}, ExitCode: 1}, []string{"libcrypto3/CVE-2023-6129", "libssl3/CVE-2024-0727"}, 1},
		{"min epss percentile", Options{Filter: Filter{MinEPSSPercentile: 0.93}, ExitCode: 1}, []string{"libcrypto3/CVE-2023-6129", "libssl3/CVE-2024-0727", "minimist/CVE-2021-44906"}, 1},
		{"kev or likely exploited", Options{Filter: Filter{KEV: true, MinEPSS: 0.15}, ExitCode: 1}, []string{"libcrypto3/CVE-2023-6129", "lodash/CVE-2021-23337"}, 1},
		{"kev and severity", Options{Filter: Filter{KEV: true, Severities: []string{"CRITICAL"}}, ExitCode: 1}, nil, 0},
		{"likely exploited, own layers", Options{Filter: Filter{MinEPSS: 0.01, ExcludeBase: true}, ExitCode: 1}, []string{"minimist/CVE-2021-44906"}, 1},
		{"exclude base", Options{Filter: Filter{ExcludeBase: true}, ExitCode: 1}, []string{"lodash/CVE-2021-23337", "minimist/CVE-2021-44906"}, 1},
		{"exploited, fixable, own layers, not ignored", Options{IgnoreFile: "testdata/plain.vigilignore", Filter: Filter{KEV: true, MinEPSS: 0.01, IgnoreUnfixed: true, ExcludeBase: true}, ExitCode: 3}, nil, 0},
		{"exploited, vex", Options{VEX: []string{"testdata/openvex.json"}, Filter: Filter{MinEPSSPercentile: 0.9}, ExitCode: 3}, []string{"libcrypto3/CVE-2023-6129", "libssl3/CVE-2024-0727"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Now = now
			p, err := Load(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			r := sample()
			out := p.Apply(r)
			if got := live(r); !slices.Equal(got, tt.want) {
				t.Errorf("live findings = %q, want %q", got, tt.want)
			}
			if out.ExitCode != tt.wantExit {
				t.Errorf("exit code = %d, want %d", out.ExitCode, tt.wantExit)
			}
		})
	}
}

func TestApplyReportsSuppressionAndExpiry(t *testing.T) {
	p, err := Load(Options{IgnoreFile: "testdata/scoped.yaml", VEX: []string{"testdata/openvex.json"}, Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	r := sample()
	out := p.Apply(r)
	var libssl, minimist *match.Finding
	for i := range r.Results {
		for j := range r.Results[i].Vulnerabilities {
			f := &r.Results[i].Vulnerabilities[j]
			switch f.PkgName + "/" + f.ID {
			case "libssl3/CVE-2024-0727":
				libssl = f
			case "minimist/CVE-2021-44906":
				minimist = f
			}
		}
	}
	if libssl == nil || libssl.Suppressed == nil || libssl.Suppressed.Kind != match.SuppressedByIgnoreFile || libssl.Suppressed.Statement != "testdata/scoped.yaml: vulnerabilities[0]" {
		t.Errorf("libssl3 suppression = %+v", libssl)
	}
	if minimist == nil || minimist.Suppressed == nil || minimist.Suppressed.Kind != match.SuppressedByVEX || minimist.Suppressed.Statement != "stmt-minimist" || minimist.Suppressed.Justification != "vulnerable_code_not_in_execute_path" {
		t.Errorf("minimist suppression = %+v", minimist)
	}
	if len(out.Notes) != 1 || out.Notes[0] != "ignore rule testdata/scoped.yaml: vulnerabilities[1] has expired and no longer applies" {
		t.Errorf("notes = %q", out.Notes)
	}
}

func TestBaseline(t *testing.T) {
	old := sample()
	// The baseline knew everything but the minimist finding.
	old.Results[1].Vulnerabilities = old.Results[1].Vulnerabilities[:1]
	path := filepath.Join(t.TempDir(), "baseline.json")
	data, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(Options{Baseline: path, ExitCode: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := sample()
	out := p.Apply(r)
	if got := live(r); !slices.Equal(got, []string{"minimist/CVE-2021-44906"}) {
		t.Errorf("live = %q", got)
	}
	if out.ExitCode != 1 || len(out.Notes) != 1 {
		t.Errorf("outcome = %+v", out)
	}
}

func TestExitOnEOL(t *testing.T) {
	p, err := Load(Options{ExitOnEOL: 5, Filter: Filter{Severities: []string{"CRITICAL"}, IgnoreUnfixed: true}})
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{}
	r.Artifact.OS = nil
	if out := p.Apply(r); out.ExitCode != 0 {
		t.Errorf("no OS: exit %d", out.ExitCode)
	}
	r = sample()
	r.Artifact.OS = &inventoryOS
	if out := p.Apply(r); out.ExitCode != 5 {
		t.Errorf("EOL OS: exit %d, want 5", out.ExitCode)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, opts := range map[string]Options{
		"bad expiry":       {IgnoreFile: write("a", "CVE-1 exp:tomorrow\n")},
		"junk after id":    {IgnoreFile: write("b", "CVE-1 because\n")},
		"yaml without id":  {IgnoreFile: write("c.yaml", "vulnerabilities:\n  - statement: x\n")},
		"bad yaml purl":    {IgnoreFile: write("d.yaml", "vulnerabilities:\n  - id: CVE-1\n    purls: [notapurl]\n")},
		"missing ignore":   {IgnoreFile: filepath.Join(dir, "absent")},
		"vex not json":     {VEX: []string{write("e.json", "{")}},
		"vex unknown kind": {VEX: []string{write("f.json", `{"hello":1}`)}},
		"bad severity":     {Filter: Filter{Severities: []string{"SEVERE"}}},
		"epss above 1":     {Filter: Filter{MinEPSS: 10}},
		"negative pct":     {Filter: Filter{MinEPSSPercentile: -0.5}},
		"bad baseline":     {Baseline: write("g.json", `{"schemaVersion": 99}`)},
	} {
		if _, err := Load(opts); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

var inventoryOS = inventoryOSValue()
