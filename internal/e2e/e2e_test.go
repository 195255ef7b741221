package e2e_test

import (
	"encoding/json"
	"encoding/xml"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The exact findings of each fixture image against the fixture feeds.
// What each row checks is said beside it; what must NOT be found is listed
// under each image.
var (
	// Not found: CVE-2023-3446 (fixed 3.1.2-r0, older than installed),
	// busybox CVE-2023-42363 (installed is the fixed version), zlib
	// CVE-2023-45853 (secdb "0": not affected), lodash CVE-2020-8203
	// (fixed 4.17.19).
	alpineFindings = []string{
		// secdb names the origin openssl; both binaries are reported.
		// Severity: secdb has none, NVD's primary CVSS v3.1 is MEDIUM.
		"CVE-2023-6129 libcrypto3 3.1.4-r1 fixed=3.1.4-r3 fixed MEDIUM/nvd",
		"CVE-2023-6129 libssl3 3.1.4-r1 fixed=3.1.4-r3 fixed MEDIUM/nvd",
		// No rating anywhere.
		"CVE-2023-6237 libcrypto3 3.1.4-r1 fixed=3.1.4-r4 fixed UNKNOWN/",
		"CVE-2023-6237 libssl3 3.1.4-r1 fixed=3.1.4-r4 fixed UNKNOWN/",
		// GHSA id reported under its CVE; GitHub's rating leads for
		// language packages.
		"CVE-2021-23337 lodash 4.17.20 fixed=4.17.21 fixed HIGH/ghsa",
		// GHSA and PYSEC records of one CVE give one finding; MODERATE is MEDIUM.
		"CVE-2023-32681 requests 2.30.0 fixed=2.31.0 fixed MEDIUM/ghsa",
		// Only the fix above the installed version: 2.3.1 and 2.12.2 fix
		// older release lines.
		"CVE-2021-44228 org.apache.logging.log4j:log4j-core 2.14.1 fixed=2.3.1, 2.12.2, 2.15.0 fixed CRITICAL/ghsa",
	}
	// goFindings are added to alpineFindings when the test could build
	// the image's Go binary (usr/local/bin/goapp, golang.org/x/text
	// v0.3.5 calling language.Parse). Go records carry no severity; the
	// fixture has no standard-library record, so the toolchain's stdlib
	// has no finding.
	goFindings = []string{
		// GO-2021-0113: language.Parse, which the binary calls.
		"CVE-2021-38561 golang.org/x/text v0.3.5 fixed=0.3.7 fixed UNKNOWN/",
		// GO-2022-1059: language.ParseAcceptLanguage and MatchStrings,
		// which it does not (reported, as unreachable).
		"CVE-2022-32149 golang.org/x/text v0.3.5 fixed=0.3.8 fixed UNKNOWN/",
	}
	// Not found: CVE-2024-1004 (fixed_version 0), CVE-2024-1005 (fix
	// older), CVE-2024-1011 (foo fixed in 1.2-3, the binNMU's source
	// version), CVE-2024-1021 (filed under source "cpp", but cpp's source
	// is gcc-defaults), CVE-2024-1031 (2.5-1 < 1:2.0-1 by epoch), the
	// deinstalled libgone1.
	debianFindings = []string{
		// Urgency "not yet assigned": NVD's HIGH is used.
		"CVE-2024-1001 libssl3 3.0.11-1~deb12u1 fixed=3.0.11-1~deb12u2 fixed HIGH/nvd",
		// Debian's urgency wins over NVD's CRITICAL for a distro package.
		"CVE-2024-1002 libssl3 3.0.11-1~deb12u1 fixed= affected LOW/debian",
		"CVE-2024-1003 libssl3 3.0.11-1~deb12u1 fixed= will_not_fix LOW/debian",
		// binNMU: looked up by source foo, reported with the binary version.
		"CVE-2024-1010 libfoo1 1.2-3+b1 fixed=1.2-4 fixed MEDIUM/debian",
		// The source version 1.203 is compared, not the binary 4:12.2.0-3.
		"CVE-2024-1020 cpp 4:12.2.0-3 fixed=1.204 fixed MEDIUM/debian",
		// Epochs compare.
		"CVE-2024-1030 libbar2 1:2.0-1 fixed=1:2.0-2 fixed HIGH/debian",
	}
	// Not found: CVE-2024-1002 (sid fixed 3.0.13-1, older).
	debianSidFindings = []string{
		"CVE-2024-1001 libssl3 3.1.0-1 fixed=3.1.1-1 fixed MEDIUM/debian",
	}
	// Not found: vigil-alpha CVE-2024-2002 (fixed 1:1.0-5.el9, lower
	// epoch), vigil-beta CVE-2024-2003 (fixed outside the vigil:1.0
	// module the installed package belongs to), vigil-gamma CVE-2024-2003
	// (fixed in the installed 0.9-3).
	rhelFindings = []string{
		"CVE-2024-2001 vigil-alpha 2:1.0-1 fixed=2:1.0-2.el9 fixed HIGH/redhat",
		"CVE-2024-2001 vigil-gamma 0.9-3 fixed= will_not_fix LOW/redhat",
		// Module stream fix applies to the module's package.
		"CVE-2024-2002 vigil-beta 2.3.4-5.el9 fixed=2.3.4-6.el9 fixed MEDIUM/redhat",
	}
)

func TestImageFindings(t *testing.T) {
	for img, want := range map[string][]string{
		"alpine": alpineFindings, "debian": debianFindings, "debian-sid": debianSidFindings, "rhel": rhelFindings,
	} {
		t.Run(img, func(t *testing.T) {
			out := scanImage(t, img, 0, "--format", "json")
			assertRows(t, findings(t, out), want)
		})
	}
}

// TestEnrichment checks that EPSS and KEV reach the findings they name.
func TestEnrichment(t *testing.T) {
	r := parseReport(t, scanImage(t, "alpine", 0, "--format", "json"))
	seen := 0
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			kev := string(v.KEV) != "" && string(v.KEV) != "null"
			switch v.ID {
			case "CVE-2021-44228":
				seen++
				if !kev || v.EPSS == nil || v.EPSS.Score != 0.97565 {
					t.Errorf("%s: kev %s, epss %+v; want the KEV entry and EPSS 0.97565", v.ID, v.KEV, v.EPSS)
				}
			case "CVE-2021-23337":
				seen++
				if kev || v.EPSS == nil || v.EPSS.Score != 0.01234 {
					t.Errorf("%s: kev %s, epss %+v; want no KEV and EPSS 0.01234", v.ID, v.KEV, v.EPSS)
				}
			default:
				if kev || v.EPSS != nil {
					t.Errorf("%s: kev %s, epss %+v; want neither", v.ID, v.KEV, v.EPSS)
				}
			}
		}
	}
	if seen != 2 {
		t.Errorf("saw %d of the 2 enriched findings", seen)
	}
}

// without returns rows minus those containing any of the substrings.
func without(rows []string, subs ...string) []string {
	return slices.DeleteFunc(slices.Clone(rows), func(r string) bool {
		return slices.ContainsFunc(subs, func(s string) bool { return strings.Contains(r, s) })
	})
}

// only returns the rows containing any of the substrings.
func only(rows []string, subs ...string) []string {
	return slices.DeleteFunc(slices.Clone(rows), func(r string) bool {
		return !slices.ContainsFunc(subs, func(s string) bool { return strings.Contains(r, s) })
	})
}

func suppressed(kind string, rows []string, subs ...string) []string {
	out := slices.Clone(rows)
	for i, r := range out {
		if slices.ContainsFunc(subs, func(s string) bool { return strings.Contains(r, s) }) {
			out[i] = "suppressed(" + kind + ") " + r
		}
	}
	return out
}

func TestPolicyFlags(t *testing.T) {
	ignorePlain := writeFile(t, ".vigilignore", `# accepted risks
CVE-2023-6237
CVE-2021-38561
CVE-2022-32149
CVE-2021-23337 exp:2099-01-01
# this one has expired and must be reported again
CVE-2023-6129 exp:2000-01-01
`)
	ignoreYAML := writeFile(t, "ignore.yaml", `vulnerabilities:
  - id: CVE-2023-6129
    purls: [pkg:apk/alpine/libssl3]
    expired_at: 2099-01-01
    statement: only libssl3 is accepted
  - id: CVE-2021-44228
    expired_at: 2000-01-01
`)
	openVEX := writeFile(t, "app.openvex.json", `{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/1",
  "author": "e2e",
  "timestamp": "2024-03-01T00:00:00Z",
  "version": 1,
  "statements": [
    {"vulnerability": {"name": "CVE-2023-32681"}, "products": [{"@id": "pkg:pypi/requests@2.30.0"}],
     "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
    {"vulnerability": {"name": "CVE-2023-6129"}, "products": [{"@id": "pkg:apk/alpine/libcrypto3@3.1.4-r1?arch=x86_64&distro=3.19.1"}],
     "status": "affected"}
  ]
}`)
	cdxVEX := writeFile(t, "app.cdx.json", `{
  "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
  "vulnerabilities": [
    {"id": "CVE-2021-44228", "analysis": {"state": "not_affected", "justification": "code_not_reachable", "detail": "JNDI lookups disabled"},
     "affects": [{"ref": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}]},
    {"id": "CVE-2021-23337", "analysis": {"state": "in_triage"},
     "affects": [{"ref": "pkg:npm/lodash@4.17.20"}]}
  ]
}`)
	tests := []struct {
		name string
		img  string
		args []string
		code int
		want []string
	}{
		{"exit-code", "alpine", []string{"--exit-code", "1"}, 1, alpineFindings},
		{"severity", "alpine", []string{"--severity", "CRITICAL,high", "--exit-code", "1"}, 1,
			without(alpineFindings, "MEDIUM", "UNKNOWN")},
		{"severity none left", "debian", []string{"--severity", "CRITICAL", "--exit-code", "1"}, 0, nil},
		{"severity unknown", "alpine", []string{"--severity", "UNKNOWN"}, 0, without(alpineFindings, "MEDIUM", "HIGH", "CRITICAL")},
		{"ignore-unfixed", "debian", []string{"--ignore-unfixed", "--exit-code", "1"}, 1,
			without(debianFindings, "CVE-2024-1002", "CVE-2024-1003")},
		{"ignore-status", "debian", []string{"--ignore-status", "will_not_fix,affected"}, 0,
			without(debianFindings, "CVE-2024-1002", "CVE-2024-1003")},
		{"ignore-status rpm", "rhel", []string{"--ignore-status", "will_not_fix"}, 0,
			without(rhelFindings, "will_not_fix")},
		{"exit-on-eol past", "alpine", []string{"--exit-on-eol", "3", "--severity", "LOW"}, 3, nil},
		{"exit-code before eol", "alpine", []string{"--exit-on-eol", "3", "--exit-code", "1"}, 1, alpineFindings},
		{"exit-on-eol supported", "rhel", []string{"--exit-on-eol", "3"}, 0, rhelFindings},
		{"ignorefile plain", "alpine", []string{"--ignorefile", ignorePlain, "--exit-code", "1"}, 1,
			suppressed("ignorefile", alpineFindings, "CVE-2023-6237", "CVE-2021-23337", "CVE-2021-38561", "CVE-2022-32149")},
		{"ignorefile gates nothing", "alpine", []string{"--ignorefile", ignorePlain, "--exit-code", "1", "--severity", "HIGH,UNKNOWN"}, 0,
			suppressed("ignorefile", without(alpineFindings, "MEDIUM", "CRITICAL"), "CVE-2023-6237", "CVE-2021-23337", "CVE-2021-38561", "CVE-2022-32149")},
		{"ignorefile yaml", "alpine", []string{"--ignorefile", ignoreYAML}, 0,
			suppressed("ignorefile", alpineFindings, "CVE-2023-6129 libssl3")},
		{"vex", "alpine", []string{"--vex", openVEX, "--vex", cdxVEX, "--exit-code", "1", "--severity", "CRITICAL,MEDIUM"}, 1,
			suppressed("vex", without(alpineFindings, "HIGH", "UNKNOWN"), "CVE-2023-32681", "CVE-2021-44228")},
		{"vex all suppressed", "alpine", []string{"--vex", openVEX, "--vex", cdxVEX, "--exit-code", "1", "--severity", "CRITICAL"}, 0,
			suppressed("vex", without(alpineFindings, "HIGH", "MEDIUM", "UNKNOWN"), "CVE-2021-44228")},
		// Exploitation gates: log4j's CVE-2021-44228 is in KEV with EPSS
		// 0.97565 (percentile 0.99996); lodash's CVE-2021-23337 has EPSS
		// 0.01234 (0.85); nothing else is scored.
		{"kev", "alpine", []string{"--kev", "--exit-code", "1"}, 1, only(alpineFindings, "CVE-2021-44228")},
		{"kev none", "debian", []string{"--kev", "--exit-code", "1"}, 0, nil},
		{"min-epss", "alpine", []string{"--min-epss", "0.5", "--exit-code", "1"}, 1, only(alpineFindings, "CVE-2021-44228")},
		{"min-epss low", "alpine", []string{"--min-epss", "0.01", "--exit-code", "1"}, 1, only(alpineFindings, "CVE-2021-44228", "CVE-2021-23337")},
		{"min-epss-percentile", "alpine", []string{"--min-epss-percentile", "0.9", "--exit-code", "1"}, 1, only(alpineFindings, "CVE-2021-44228")},
		{"kev or epss", "alpine", []string{"--kev", "--min-epss", "0.01", "--exit-code", "1"}, 1, only(alpineFindings, "CVE-2021-44228", "CVE-2021-23337")},
		{"kev and severity", "alpine", []string{"--kev", "--severity", "HIGH", "--exit-code", "1"}, 0, nil},
		{"epss and severity", "alpine", []string{"--min-epss", "0.01", "--severity", "HIGH", "--exit-code", "1"}, 1, only(alpineFindings, "CVE-2021-23337")},
		{"kev and unfixed", "alpine", []string{"--kev", "--ignore-unfixed", "--exit-code", "1"}, 1, only(alpineFindings, "CVE-2021-44228")},
		{"kev vex", "alpine", []string{"--kev", "--vex", cdxVEX, "--exit-code", "1"}, 0,
			suppressed("vex", only(alpineFindings, "CVE-2021-44228"), "CVE-2021-44228")},
		{"epss ignorefile", "alpine", []string{"--min-epss", "0.01", "--ignorefile", ignorePlain, "--exit-code", "1"}, 1,
			suppressed("ignorefile", only(alpineFindings, "CVE-2021-44228", "CVE-2021-23337"), "CVE-2021-23337")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := scanImage(t, tt.img, tt.code, append([]string{"--format", "json"}, tt.args...)...)
			assertRows(t, findings(t, out), tt.want)
		})
	}
}

func TestBaseline(t *testing.T) {
	base := filepath.Join(t.TempDir(), "base.json")
	scanImage(t, "debian", 0, "--format", "json", "--ignore-unfixed", "--output", base)
	out := scanImage(t, "debian", 1, "--format", "json", "--baseline", base, "--exit-code", "1")
	assertRows(t, findings(t, out), []string{
		"CVE-2024-1002 libssl3 3.0.11-1~deb12u1 fixed= affected LOW/debian",
		"CVE-2024-1003 libssl3 3.0.11-1~deb12u1 fixed= will_not_fix LOW/debian",
	})
	full := filepath.Join(t.TempDir(), "full.json")
	scanImage(t, "debian", 0, "--format", "json", "--output", full)
	out = scanImage(t, "debian", 0, "--format", "json", "--baseline", full, "--exit-code", "1")
	assertRows(t, findings(t, out), nil)

	// With the exploitation gate: a baseline without log4j's finding
	// (a severity-filtered report) leaves it new.
	high := filepath.Join(t.TempDir(), "high.json")
	scanImage(t, "alpine", 0, "--format", "json", "--severity", "HIGH", "--output", high)
	out = scanImage(t, "alpine", 1, "--format", "json", "--baseline", high, "--kev", "--min-epss", "0.01", "--exit-code", "1")
	assertRows(t, findings(t, out), only(alpineFindings, "CVE-2021-44228"))
	all := filepath.Join(t.TempDir(), "all.json")
	scanImage(t, "alpine", 0, "--format", "json", "--output", all)
	out = scanImage(t, "alpine", 0, "--format", "json", "--baseline", all, "--kev", "--exit-code", "1")
	assertRows(t, findings(t, out), nil)
}

// packages returns "target: name version" for every package of the report.
func packages(t *testing.T, out string) []string {
	t.Helper()
	var rows []string
	for _, res := range parseReport(t, out).Results {
		for _, p := range res.Packages {
			rows = append(rows, res.Type+": "+p.Name+" "+p.Version)
		}
	}
	slices.Sort(rows)
	return rows
}

var alpinePackages = []string{
	"alpine: busybox 1.36.1-r15", "alpine: libcrypto3 3.1.4-r1", "alpine: libssl3 3.1.4-r1", "alpine: zlib 1.3-r2",
	"jar: org.apache.logging.log4j:log4j-core 2.14.1", "node-pkg: lodash 4.17.20", "python-pkg: requests 2.30.0",
}

func TestInventory(t *testing.T) {
	t.Run("list-all-pkgs", func(t *testing.T) {
		out := scanImage(t, "alpine", 0, "--format", "json", "--list-all-pkgs")
		if got := packages(t, out); !slices.Equal(got, alpinePackages) {
			t.Errorf("packages:\n got %q\nwant %q", got, alpinePackages)
		}
		assertRows(t, findings(t, out), alpineFindings)
	})
	t.Run("without list-all-pkgs", func(t *testing.T) {
		if got := packages(t, scanImage(t, "alpine", 0, "--format", "json")); len(got) != 0 {
			t.Errorf("packages listed without --list-all-pkgs: %q", got)
		}
	})
	t.Run("scanners none needs no database", func(t *testing.T) {
		empty := t.TempDir()
		code, out, stderr := vigil(t, "image", "--input", fx.images["rhel"], "--cache-dir", empty, "--offline", "--scanners", "none", "--format", "json", "--exit-code", "1")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		want := []string{"redhat: vigil-alpha 2:1.0-1", "redhat: vigil-beta 2.3.4-5.el9", "redhat: vigil-gamma 0.9-3"}
		if got := packages(t, out); !slices.Equal(got, want) {
			t.Errorf("packages:\n got %q\nwant %q", got, want)
		}
		assertRows(t, findings(t, out), nil)
	})
}

// TestLanguageInventory checks every language result of the alpine image,
// by target and type, with its packages.
func TestLanguageInventory(t *testing.T) {
	out := scanImage(t, "alpine", 0, "--format", "json", "--scanners", "none")
	var got []string
	for _, res := range parseReport(t, out).Results {
		if res.Class != "lang-pkgs" {
			continue
		}
		for _, p := range res.Packages {
			got = append(got, res.Target+" ("+res.Type+"): "+p.Name+" "+p.Version)
		}
	}
	want := []string{
		"Java (jar): org.apache.logging.log4j:log4j-core 2.14.1",
		"Node.js (node-pkg): lodash 4.17.20",
		"Python (python-pkg): requests 2.30.0",
	}
	if fx.goStdlib != "" {
		want = append(want,
			"usr/local/bin/goapp (gobinary): golang.org/x/text v0.3.5",
			"usr/local/bin/goapp (gobinary): stdlib "+fx.goStdlib)
	}
	if !slices.Equal(got, want) {
		t.Errorf("language packages:\n got %q\nwant %q", got, want)
	}
}

// TestGoReachability checks the Go findings' reachability: the binary
// calls language.Parse (GO-2021-0113), not ParseAcceptLanguage or
// MatchStrings (GO-2022-1059).
func TestGoReachability(t *testing.T) {
	if fx.goStdlib == "" {
		t.Skip("the Go binary could not be built (no Go module proxy?)")
	}
	want := map[string]string{"CVE-2021-38561": "", "CVE-2022-32149": "unreachable"}
	got := map[string]string{}
	for _, res := range parseReport(t, scanImage(t, "alpine", 0, "--format", "json")).Results {
		if res.Target != "usr/local/bin/goapp" {
			continue
		}
		for _, v := range res.Vulnerabilities {
			got[v.ID] = v.Reachability
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("reachability by finding = %q, want %q (\"\" is reachable)", got, want)
	}
}

// TestVEXOutput writes the statements vigil can justify (--format openvex
// and cyclonedx-vex) and reads them back with --vex: the Go finding whose
// symbols are absent and the finding an ignore-file rule gave a reason for
// are suppressed; everything else still gates.
func TestVEXOutput(t *testing.T) {
	ignore := writeFile(t, "reasons.yaml", `vulnerabilities:
  - id: CVE-2023-32681
    statement: requests never follows redirects to other hosts here
  - id: CVE-2023-6237
`)
	want := alpineFindings
	if fx.goStdlib != "" {
		want = suppressed("vex", want, "CVE-2022-32149")
	}
	want = suppressed("vex", want, "CVE-2023-32681")
	for _, f := range []string{"openvex", "cyclonedx-vex"} {
		t.Run(f, func(t *testing.T) {
			doc := filepath.Join(t.TempDir(), "app.vex.json")
			scanImage(t, "alpine", 0, "--format", f, "--ignorefile", ignore, "--output", doc)
			out := scanImage(t, "alpine", 1, "--format", "json", "--vex", doc, "--exit-code", "1")
			assertRows(t, findings(t, out), want)
		})
	}
	// A clean report has nothing to state: exit 2, nothing written.
	doc := filepath.Join(t.TempDir(), "none.json")
	code, _, stderr := vigil(t, "image", "--input", fx.images["debian"], "--cache-dir", fx.cache, "--offline", "--quiet",
		"--format", "openvex", "--severity", "CRITICAL", "--output", doc)
	if code != 2 || !strings.Contains(stderr, "no finding to make a statement about") {
		t.Errorf("clean report: exit %d, stderr %q", code, stderr)
	}
}

// TestSBOM rematches a saved JSON report: the findings are those of the
// image scan.
func TestSBOM(t *testing.T) {
	for img, want := range map[string][]string{"alpine": alpineFindings, "debian": debianFindings, "rhel": rhelFindings} {
		t.Run(img, func(t *testing.T) {
			saved := filepath.Join(t.TempDir(), "inv.json")
			scanImage(t, img, 0, "--format", "json", "--scanners", "none", "--output", saved)
			code, out, stderr := vigil(t, "sbom", saved, "--cache-dir", fx.cache, "--offline", "--format", "json", "--exit-code", "4")
			if code != 4 {
				t.Fatalf("exit %d, want 4: %s", code, stderr)
			}
			assertRows(t, findings(t, out), want)
		})
	}
	t.Run("report without packages", func(t *testing.T) {
		saved := filepath.Join(t.TempDir(), "vulns.json")
		scanImage(t, "alpine", 0, "--format", "json", "--output", saved)
		code, _, stderr := vigil(t, "sbom", saved, "--cache-dir", fx.cache, "--offline")
		if code != 2 || !strings.Contains(stderr, "--list-all-pkgs") {
			t.Errorf("exit %d, stderr %q; want 2 and a hint at --list-all-pkgs", code, stderr)
		}
	})
}

func TestMissingDatabase(t *testing.T) {
	code, stdout, stderr := vigil(t, "image", "--input", fx.images["alpine"], "--cache-dir", t.TempDir(), "--offline")
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	if !strings.Contains(stderr, "vigil db build") || !strings.Contains(stderr, "vigil db update") {
		t.Errorf("stderr %q does not say how to get a database", stderr)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--exit-code", "2"},
		{"--format", "xml"},
		{"--severity", "SEVERE"},
		{"--severity", "HIHG"},
		{"--ignore-status", "fixd"},
		{"--pkg-types", "libary"},
		{"--scanners", "secret"},
		{"--ignorefile", "/nonexistent/ignore"},
		{"--vex", "/nonexistent/vex.json"},
		{"--baseline", "/nonexistent/base.json"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			all := append([]string{"image", "--input", fx.images["alpine"], "--cache-dir", fx.cache, "--offline"}, args...)
			code, _, stderr := vigil(t, all...)
			if code != 2 || !strings.HasPrefix(stderr, "vigil: ") {
				t.Errorf("exit %d, stderr %q; want 2 and a message", code, stderr)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		format string
		args   []string
		check  func(t *testing.T, out string)
	}{
		{"table", nil, func(t *testing.T, out string) {
			for _, id := range []string{"CVE-2021-44228", "CVE-2023-6129", "libcrypto3", "log4j-core"} {
				if !strings.Contains(out, id) {
					t.Errorf("table lacks %s", id)
				}
			}
		}},
		{"json", nil, func(t *testing.T, out string) { assertRows(t, findings(t, out), alpineFindings) }},
		{"sarif", nil, func(t *testing.T, out string) {
			var doc struct {
				Version string `json:"version"`
				Runs    []struct {
					Results []struct {
						RuleID string `json:"ruleId"`
						Level  string `json:"level"`
					} `json:"results"`
				} `json:"runs"`
			}
			mustJSON(t, out, &doc)
			if doc.Version != "2.1.0" || len(doc.Runs) != 1 || len(doc.Runs[0].Results) != len(alpineFindings) {
				t.Errorf("sarif: version %q, %d runs, results %+v", doc.Version, len(doc.Runs), doc.Runs)
			}
		}},
		{"cyclonedx", nil, func(t *testing.T, out string) {
			var doc struct {
				BOMFormat       string                  `json:"bomFormat"`
				SpecVersion     string                  `json:"specVersion"`
				Components      []struct{ Purl string } `json:"components"`
				Vulnerabilities []struct {
					ID      string                 `json:"id"`
					Affects []struct{ Ref string } `json:"affects"`
				} `json:"vulnerabilities"`
			}
			mustJSON(t, out, &doc)
			affects := 0
			for _, v := range doc.Vulnerabilities {
				affects += len(v.Affects)
			}
			if doc.BOMFormat != "CycloneDX" || doc.SpecVersion == "" || len(doc.Components) < len(alpinePackages) || affects != len(alpineFindings) {
				t.Errorf("cyclonedx: format %q spec %q, %d components, %d vulnerabilities affecting %d refs",
					doc.BOMFormat, doc.SpecVersion, len(doc.Components), len(doc.Vulnerabilities), affects)
			}
		}},
		{"spdx-json", nil, func(t *testing.T, out string) {
			var doc struct {
				SPDXVersion string `json:"spdxVersion"`
				Packages    []struct {
					Name        string `json:"name"`
					VersionInfo string `json:"versionInfo"`
				} `json:"packages"`
			}
			mustJSON(t, out, &doc)
			names := map[string]bool{}
			for _, p := range doc.Packages {
				names[p.Name+" "+p.VersionInfo] = true
			}
			if !strings.HasPrefix(doc.SPDXVersion, "SPDX-2.") || !names["lodash 4.17.20"] || !names["libssl3 3.1.4-r1"] {
				t.Errorf("spdx: version %q, packages %v", doc.SPDXVersion, names)
			}
		}},
		{"junit", nil, func(t *testing.T, out string) {
			var doc struct {
				XMLName xml.Name `xml:"testsuites"`
				Suites  []struct {
					Failures int `xml:"failures,attr"`
					Cases    []struct {
						Name    string    `xml:"name,attr"`
						Failure *struct{} `xml:"failure"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("junit is not XML: %v\n%s", err, out)
			}
			failures := 0
			for _, s := range doc.Suites {
				failures += s.Failures
			}
			if failures != len(alpineFindings) {
				t.Errorf("junit: %d failures, want %d\n%s", failures, len(alpineFindings), out)
			}
		}},
		{"template", []string{"--template", `{{range .Results}}{{range .Vulnerabilities}}{{.ID}} {{.PkgName}}
{{end}}{{end}}`}, func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(alpineFindings) || !slices.Contains(lines, "CVE-2021-44228 org.apache.logging.log4j:log4j-core") {
				t.Errorf("template output:\n%s", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			out := scanImage(t, "alpine", 1, append([]string{"--format", tt.format, "--exit-code", "1"}, tt.args...)...)
			tt.check(t, out)
			// --output writes the same bytes to a file.
			if tt.format == "json" || tt.format == "table" {
				return
			}
			file := filepath.Join(t.TempDir(), "out")
			scanImage(t, "alpine", 0, append([]string{"--format", tt.format, "--output", file}, tt.args...)...)
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, string(b))
		})
	}
}

func mustJSON(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("not JSON: %v\n%.2000s", err, out)
	}
}
