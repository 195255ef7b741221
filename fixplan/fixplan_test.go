package fixplan

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/vulndb"
)

func finding(pkg *inventory.Package, id, sev string, fixed ...string) match.Finding {
	f := match.Finding{ID: id, PkgName: pkg.Name, PkgID: pkg.ID, InstalledVersion: pkg.Version, Severity: sev, SeveritySource: "x", Status: vulndb.StatusAffected, Layer: pkg.Layer}
	if len(fixed) > 0 {
		f.FixedVersions, f.Status = fixed, vulndb.StatusFixed
	}
	return f
}

func withRisk(fs ...match.Finding) []match.Finding {
	for i := range fs {
		fs[i].Risk = match.RiskOf(&fs[i])
	}
	return fs
}

// sample is a Debian image with an npm application. Risks (docs/matching.md,
// no CVSS given: a severity counts as its band's middle):
//
//	openssl: A CRITICAL fixed 28.5+5, B HIGH fixed 24+5 (each on libssl3 and
//	  openssl, counted once), C unfixed: 62.5
//	foo (binNMU libfoo1): MEDIUM fixed 16.5+5 = 21.5
//	lodash (direct): L1 HIGH KEV fixed 30+24+5, L3 MEDIUM fixed 21.5: 80.5;
//	  L2 is fixed only on an older line
//	express (direct) → body-parser → qs: HIGH, EPSS 0.1 (20), fixed: 49
//	minimist, brought by mkdirp and optimist: CRITICAL fixed 33.5
func sample() *report.Report {
	base := inventory.LayerRef{DiffID: "sha256:1", Base: true}
	own := inventory.LayerRef{DiffID: "sha256:2"}
	libssl := inventory.Package{ID: "libssl3@3.0.11-1~deb12u2", Name: "libssl3", Version: "3.0.11-1~deb12u2", SourceName: "openssl", Layer: base}
	openssl := inventory.Package{ID: "openssl@3.0.11-1~deb12u2", Name: "openssl", Version: "3.0.11-1~deb12u2", SourceName: "openssl", Layer: base}
	libfoo := inventory.Package{ID: "libfoo1@1.2-3+b1", Name: "libfoo1", Version: "1.2-3+b1", SourceName: "foo", SourceVersion: "1.2-3", Layer: own}
	os := []match.Finding{
		// Fixes on an older line (3.0.9-1) and a newer one (3.1.5-1) are
		// not the lowest above the installed version.
		finding(&libssl, "CVE-A", "CRITICAL", "3.0.9-1", "3.0.13-1~deb12u1", "3.1.5-1"),
		finding(&libssl, "CVE-B", "HIGH", "3.0.14-1~deb12u1"),
		finding(&libssl, "CVE-C", "LOW"),
		finding(&openssl, "CVE-A", "CRITICAL", "3.0.13-1~deb12u1"),
		finding(&openssl, "CVE-B", "HIGH", "3.0.14-1~deb12u1"),
		finding(&libfoo, "CVE-F", "MEDIUM", "1.2-4"),
	}
	npm := func(name, version string, indirect bool, deps ...string) inventory.Package {
		return inventory.Package{ID: name + "@" + version, Name: name, Version: version, Indirect: indirect, DependsOn: deps, Purl: "pkg:npm/" + name + "@" + version, Layer: own}
	}
	pkgs := []inventory.Package{
		npm("lodash", "4.17.20", false),
		npm("express", "4.17.1", false, "body-parser@1.19.0"),
		npm("body-parser", "1.19.0", true, "qs@6.7.0"),
		npm("qs", "6.7.0", true),
		npm("mkdirp", "0.5.5", false, "minimist@1.2.5"),
		npm("optimist", "0.6.1", false, "minimist@1.2.5"),
		npm("minimist", "1.2.5", true),
	}
	lodash, qs, minimist := &pkgs[0], &pkgs[3], &pkgs[6]
	l1 := finding(lodash, "CVE-L1", "HIGH", "4.17.21")
	l1.KEV = &vulndb.KEV{DateAdded: "2024-01-01"}
	q := finding(qs, "CVE-Q", "HIGH", "6.7.3", "6.5.3")
	q.EPSS = &vulndb.EPSS{Score: 0.1}
	lang := []match.Finding{
		l1,
		finding(lodash, "CVE-L2", "MEDIUM", "4.17.19"), // older than installed: no fix for 4.17.20
		finding(lodash, "CVE-L3", "MEDIUM", "4.17.16", "4.17.21"),
		q,
		finding(minimist, "CVE-M", "CRITICAL", "0.2.4", "1.2.6"),
	}
	// CVE-L2's only fix is older than the installed version: unfixed
	// for this package (a matcher would not report it, but the plan must
	// not count it).
	return &report.Report{
		Artifact: inventory.Artifact{OS: &inventory.OS{Family: "debian", Name: "12"}},
		Results: []report.Result{
			{Target: "app (debian 12)", Class: inventory.ClassOSPkgs, Type: "debian", Packages: []inventory.Package{libssl, openssl, libfoo}, Vulnerabilities: withRisk(os...)},
			{Target: "app/package-lock.json", Class: inventory.ClassLangPkgs, Type: "npm", Packages: pkgs, Vulnerabilities: withRisk(lang...)},
		},
	}
}

func TestPlan(t *testing.T) {
	got := Plan(sample())
	want := []report.Fix{
		{
			Target: "app/package-lock.json", Class: "lang-pkgs", Package: "lodash", InstalledVersion: "4.17.20", FixedVersion: "4.17.21",
			Vulnerable: []report.FixedPackage{{Name: "lodash", InstalledVersion: "4.17.20", FixedVersion: "4.17.21"}},
			Findings:   []string{"CVE-L1", "CVE-L3"}, RiskRemoved: 80.5, Severities: map[string]int{"HIGH": 1, "MEDIUM": 1}, Unfixed: 1,
		},
		{
			Target: "app (debian 12)", Class: "os-pkgs", Package: "openssl", InstalledVersion: "3.0.11-1~deb12u2", FixedVersion: "3.0.14-1~deb12u1",
			Vulnerable: []report.FixedPackage{{Name: "libssl3", InstalledVersion: "3.0.11-1~deb12u2"}, {Name: "openssl", InstalledVersion: "3.0.11-1~deb12u2"}},
			Findings:   []string{"CVE-A", "CVE-B"}, RiskRemoved: 62.5, Severities: map[string]int{"CRITICAL": 1, "HIGH": 1}, Unfixed: 1, Base: true,
		},
		{
			Target: "app/package-lock.json", Class: "lang-pkgs", Package: "express", InstalledVersion: "4.17.1",
			Vulnerable: []report.FixedPackage{{Name: "qs", InstalledVersion: "6.7.0", FixedVersion: "6.7.3"}},
			Findings:   []string{"CVE-Q"}, RiskRemoved: 49, Severities: map[string]int{"HIGH": 1},
		},
		{
			Target: "app/package-lock.json", Class: "lang-pkgs", Package: "minimist", InstalledVersion: "1.2.5", FixedVersion: "1.2.6",
			Vulnerable: []report.FixedPackage{{Name: "minimist", InstalledVersion: "1.2.5", FixedVersion: "1.2.6", Via: []string{"mkdirp@0.5.5", "optimist@0.6.1"}}},
			Findings:   []string{"CVE-M"}, RiskRemoved: 33.5, Severities: map[string]int{"CRITICAL": 1},
		},
		{
			// The source version 1.2-3 is compared, not the binary's.
			Target: "app (debian 12)", Class: "os-pkgs", Package: "foo", InstalledVersion: "1.2-3", FixedVersion: "1.2-4",
			Vulnerable: []report.FixedPackage{{Name: "libfoo1", InstalledVersion: "1.2-3+b1"}},
			Findings:   []string{"CVE-F"}, RiskRemoved: 21.5, Severities: map[string]int{"MEDIUM": 1},
		},
	}
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if string(g) != string(w) {
		t.Errorf("plan:\n%s\nwant:\n%s", g, w)
	}
}

func TestPlanSkipsSuppressedAndUnfixable(t *testing.T) {
	r := sample()
	for i := range r.Results[1].Vulnerabilities {
		r.Results[1].Vulnerabilities[i].Suppressed = &match.Suppression{Kind: match.SuppressedByVEX}
	}
	r.Results[0].Vulnerabilities = r.Results[0].Vulnerabilities[2:3] // only the unfixed CVE-C
	if got := Plan(r); len(got) != 0 {
		t.Errorf("plan = %+v, want none", got)
	}
}

func TestPlanWithoutPackages(t *testing.T) {
	// A report read back without --list-all-pkgs: findings only, each
	// grouped by its own package, compared by its purl's ecosystem.
	r := sample()
	r.Results[1].Packages = nil
	for i := range r.Results[1].Vulnerabilities {
		f := &r.Results[1].Vulnerabilities[i]
		f.PkgPurl = "pkg:npm/" + f.PkgName + "@" + f.InstalledVersion
	}
	var qs *report.Fix
	plan := Plan(r)
	for i := range plan {
		if plan[i].Package == "qs" {
			qs = &plan[i]
		}
	}
	if qs == nil || qs.FixedVersion != "6.7.3" || qs.InstalledVersion != "6.7.0" {
		t.Errorf("qs fix = %+v", qs)
	}
}

// TestPlanWithRoots: a lockfile whose project is a root package. What the
// root names is direct, whatever the Indirect marks say; the root itself
// is never what to upgrade.
func TestPlanWithRoots(t *testing.T) {
	npm := func(name, version string, deps ...string) inventory.Package {
		return inventory.Package{ID: name + "@" + version, Name: name, Version: version, DependsOn: deps, Purl: "pkg:npm/" + name + "@" + version}
	}
	root := npm("web", "1.0.0", "express@4.17.1", "qs@6.7.0")
	root.Root = true
	pkgs := []inventory.Package{root, npm("express", "4.17.1", "body-parser@1.19.0"), npm("body-parser", "1.19.0", "qs@6.7.0", "bytes@3.1.0"), npm("qs", "6.7.0"), npm("bytes", "3.1.0")}
	fs := withRisk(finding(&pkgs[3], "CVE-Q", "HIGH", "6.7.3"), finding(&pkgs[4], "CVE-B", "LOW", "3.1.2"))
	r := &report.Report{Results: []report.Result{{Target: "package-lock.json", Class: inventory.ClassLangPkgs, Type: "npm", Packages: pkgs, Vulnerabilities: fs}}}
	var got []string
	for _, f := range Plan(r) {
		got = append(got, f.Package+" "+f.FixedVersion+" "+fixTo(f))
	}
	// qs is named by the root: direct, bumped itself. bytes comes only
	// through express.
	want := []string{"qs 6.7.3 qs≥6.7.3", "express  bytes≥3.1.2"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("plan %q, want %q", got, want)
	}
}

func fixTo(f report.Fix) string {
	var s []string
	for _, v := range f.Vulnerable {
		s = append(s, v.Name+"≥"+v.FixedVersion)
	}
	return strings.Join(s, ",")
}
