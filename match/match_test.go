package match

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/vulndb"
)

// memStore is an in-memory Store.
type memStore struct {
	affected map[string][]vulndb.Affected
	vulns    map[string]*vulndb.Vulnerability
}

func newMemStore(recs []vulndb.Affected, vulns ...vulndb.Vulnerability) *memStore {
	s := &memStore{affected: map[string][]vulndb.Affected{}, vulns: map[string]*vulndb.Vulnerability{}}
	for _, a := range recs {
		k := a.Ecosystem + "\x00" + a.Package
		s.affected[k] = append(s.affected[k], a)
	}
	for i := range vulns {
		s.vulns[vulns[i].ID] = &vulns[i]
	}
	return s
}

func (s *memStore) Affected(eco, pkg string) ([]vulndb.Affected, error) {
	return s.affected[eco+"\x00"+pkg], nil
}

func (s *memStore) Vulnerability(id string) (*vulndb.Vulnerability, bool, error) {
	v, ok := s.vulns[id]
	return v, ok, nil
}

func (s *memStore) HasEcosystem(eco string) (bool, error) {
	for k := range s.affected {
		if strings.HasPrefix(k, eco+"\x00") {
			return true, nil
		}
	}
	return false, nil
}

func fixedRange(scheme, fixed string) []vulndb.Range {
	return []vulndb.Range{{Scheme: scheme, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: fixed}}}}
}

func deb(id, pkg, fixed string, status vulndb.Status, sev string) vulndb.Affected {
	a := vulndb.Affected{VulnID: id, Source: "debian", Ecosystem: "debian:12", Package: pkg, Status: status, Severity: sev}
	if fixed != "" {
		a.Ranges, a.Fixed = fixedRange("deb", fixed), []string{fixed}
	}
	return a
}

func matchOne(t *testing.T, store Store, inv *inventory.Inventory) *Result {
	t.Helper()
	m := New(store, Options{})
	res, err := m.Match(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ids lists "pkg:id:status" for every finding of result i.
func ids(res *Result, i int) []string {
	var out []string
	for _, f := range res.Findings[i] {
		out = append(out, f.PkgName+":"+f.ID+":"+string(f.Status))
	}
	return out
}

func TestMatchDebian(t *testing.T) {
	store := newMemStore([]vulndb.Affected{
		deb("CVE-2024-0001", "openssl", "3.0.11-1~deb12u2", vulndb.StatusFixed, "HIGH"),
		deb("CVE-2023-0002", "openssl", "3.0.9-1", vulndb.StatusFixed, "HIGH"),      // fixed long ago
		deb("CVE-2024-0003", "openssl", "", vulndb.StatusAffected, "LOW"),           // no fix yet
		deb("CVE-2024-0004", "openssl", "", vulndb.StatusNotAffected, ""),           // not affected
		deb("CVE-2024-0005", "openssl", "", vulndb.StatusWillNotFix, "LOW"),         // no-dsa
		deb("CVE-2024-0006", "zlib", "1:1.2.13.dfsg-2", vulndb.StatusFixed, "HIGH"), // epoch in the fix
		deb("CVE-2024-0007", "bash", "5.2.15-2", vulndb.StatusFixed, "MEDIUM"),      // binNMU installed
		deb("CVE-2024-0008", "gcc-defaults", "1.210", vulndb.StatusFixed, "LOW"),    // source versioned apart
	})
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{OS: &inventory.OS{Family: "debian", Name: "12.4"}},
		Results: []inventory.Result{{Target: "img (debian 12.4)", Class: inventory.ClassOSPkgs, Type: "debian", Packages: []inventory.Package{
			{Name: "libssl3", Version: "3.0.11-1~deb12u1", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u1"},
			{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", SourceName: "zlib", SourceVersion: "1:1.2.13.dfsg-1"},
			{Name: "bash", Version: "5.2.15-2+b2", SourceName: "bash", SourceVersion: "5.2.15-2"},
			{Name: "gcc", Version: "4:12.2.0-3", SourceName: "gcc-defaults", SourceVersion: "1.203"},
		}}},
	}
	res := matchOne(t, store, inv)
	want := []string{
		"gcc:CVE-2024-0008:fixed",
		"libssl3:CVE-2024-0001:fixed",
		"libssl3:CVE-2024-0003:affected",
		"libssl3:CVE-2024-0005:will_not_fix",
		"zlib1g:CVE-2024-0006:fixed",
	}
	if got := ids(res, 0); !slices.Equal(got, want) {
		t.Errorf("findings =\n%q\nwant\n%q", got, want)
	}
	for _, f := range res.Findings[0] {
		if f.ID == "CVE-2024-0001" && (f.Severity != "HIGH" || f.SeveritySource != "debian" || f.FixedVersion != "3.0.11-1~deb12u2" || f.InstalledVersion != "3.0.11-1~deb12u1") {
			t.Errorf("CVE-2024-0001 finding = %+v", f)
		}
	}
}

func TestMatchNoDataForRelease(t *testing.T) {
	store := newMemStore([]vulndb.Affected{deb("CVE-2024-0001", "openssl", "3.0.11-1~deb12u2", vulndb.StatusFixed, "HIGH")})
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{OS: &inventory.OS{Family: "debian", Name: "14"}},
		Results: []inventory.Result{{Target: "img (debian 14)", Class: inventory.ClassOSPkgs, Packages: []inventory.Package{
			{Name: "libssl3", Version: "3.0.11-1", SourceName: "openssl"},
		}}},
	}
	res := matchOne(t, store, inv)
	// Not matched is not clean: the scan is incomplete.
	if len(res.Findings[0]) != 0 || len(res.Warnings) != 1 ||
		res.Warnings[0].Message != "match: img (debian 14): the vulnerability database has no data for debian:14; its 1 packages were not matched" {
		t.Errorf("findings %v, warnings %q", res.Findings[0], res.Warnings)
	}
	inv.Artifact.OS = nil
	res = matchOne(t, store, inv)
	if len(res.Warnings) != 1 || res.Warnings[0].Message != "match: img (debian 14): the OS release is not detected or not supported; its 1 packages were not matched" {
		t.Errorf("without an OS: warnings %q", res.Warnings)
	}
}

func TestMatchAlpineOriginAndRPMModules(t *testing.T) {
	store := newMemStore([]vulndb.Affected{
		{VulnID: "CVE-2024-0727", Source: "alpine", Ecosystem: "alpine:3.19", Package: "openssl", Status: vulndb.StatusFixed, Ranges: fixedRange("apk", "3.1.4-r5"), Fixed: []string{"3.1.4-r5"}},
		{VulnID: "CVE-2023-5678", Source: "alpine", Ecosystem: "alpine:3.19", Package: "openssl", Status: vulndb.StatusFixed, Ranges: fixedRange("apk", "3.1.4-r1"), Fixed: []string{"3.1.4-r1"}},
		{VulnID: "CVE-2024-1111", Source: "redhat", Ecosystem: "redhat:8", Package: "nodejs", Modularitylabel: "nodejs:18", Status: vulndb.StatusFixed, Ranges: fixedRange("rpm", "1:18.19.0-1.module+el8.9.0+20000+abcdef01"), Fixed: []string{"1:18.19.0-1.module+el8.9.0+20000+abcdef01"}},
		{VulnID: "CVE-2024-2222", Source: "redhat", Ecosystem: "redhat:8", Package: "nodejs", Modularitylabel: "nodejs:20", Status: vulndb.StatusFixed, Ranges: fixedRange("rpm", "1:20.11.0-1.module+el8.9.0+21000+abcdef02"), Fixed: []string{"1:20.11.0-1.module+el8.9.0+21000+abcdef02"}},
		{VulnID: "CVE-2024-3333", Source: "redhat", Ecosystem: "redhat:8", Package: "openssl", Status: vulndb.StatusFixed, Ranges: fixedRange("rpm", "1:1.1.1k-12.el8_9"), Fixed: []string{"1:1.1.1k-12.el8_9"}},
		{VulnID: "CVE-2024-4444", Source: "redhat", Ecosystem: "redhat:8", Package: "openssl-libs", Status: vulndb.StatusWillNotFix},
	})
	apk := &inventory.Inventory{
		Artifact: inventory.Artifact{OS: &inventory.OS{Family: "alpine", Name: "3.19.0"}},
		Results: []inventory.Result{{Class: inventory.ClassOSPkgs, Packages: []inventory.Package{
			{Name: "libcrypto3", Version: "3.1.4-r1", SourceName: "openssl"},
		}}},
	}
	if got := ids(matchOne(t, store, apk), 0); !slices.Equal(got, []string{"libcrypto3:CVE-2024-0727:fixed"}) {
		t.Errorf("alpine findings = %q", got)
	}
	rpm := &inventory.Inventory{
		Artifact: inventory.Artifact{OS: &inventory.OS{Family: "centos", Name: "8.5.2111"}},
		Results: []inventory.Result{{Class: inventory.ClassOSPkgs, Packages: []inventory.Package{
			{Name: "nodejs", Version: "1:18.14.2-3.module_el8.7.0+1234+abcdef01", Epoch: 1, Modularitylabel: "nodejs:18:8070020230306170042:9f9e2e7e"},
			{Name: "openssl-libs", Version: "1:1.1.1k-7.el8_6", Epoch: 1, SourceName: "openssl", SourceVersion: "1:1.1.1k-7.el8_6"},
		}}},
	}
	want := []string{"nodejs:CVE-2024-1111:fixed", "openssl-libs:CVE-2024-3333:fixed", "openssl-libs:CVE-2024-4444:will_not_fix"}
	if got := ids(matchOne(t, store, rpm), 0); !slices.Equal(got, want) {
		t.Errorf("rpm findings = %q, want %q", got, want)
	}
}

func TestMatchLanguagesDedupAndEnrich(t *testing.T) {
	semverFix := func(intro, fixed string) []vulndb.Range {
		return []vulndb.Range{{Scheme: "semver", Events: []vulndb.Event{{Introduced: intro}, {Fixed: fixed}}}}
	}
	store := newMemStore([]vulndb.Affected{
		{VulnID: "GHSA-35jh-r3h4-6jhm", Source: "osv:npm", Ecosystem: "npm", Package: "lodash", Status: vulndb.StatusFixed, Ranges: semverFix("0", "4.17.21"), Fixed: []string{"4.17.21"}},
		{VulnID: "GHSA-aaaa-bbbb-cccc", Source: "osv:npm", Ecosystem: "npm", Package: "@babel/traverse", Status: vulndb.StatusFixed, Ranges: semverFix("0", "7.23.2"), Fixed: []string{"7.23.2"}},
		{VulnID: "PYSEC-2023-0001", Source: "osv:PyPI", Ecosystem: "PyPI", Package: "django", Status: vulndb.StatusFixed, Ranges: semverFix("4.2", "4.2.7"), Fixed: []string{"4.2.7"}},
		{VulnID: "GHSA-dddd-eeee-ffff", Source: "osv:PyPI", Ecosystem: "PyPI", Package: "django", Status: vulndb.StatusFixed, Ranges: []vulndb.Range{{Scheme: "pep440", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "3.2.23"}, {Introduced: "4.0"}, {Fixed: "4.1.13"}, {Introduced: "4.2"}, {Fixed: "4.2.7"}}}}, Fixed: []string{"4.2.7", "3.2.23", "4.1.13"}},
		{VulnID: "GO-2023-2102", Source: "osv:Go", Ecosystem: "Go", Package: "stdlib", Status: vulndb.StatusFixed, Ranges: []vulndb.Range{{Scheme: "semver", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "1.20.10"}, {Introduced: "1.21.0-0"}, {Fixed: "1.21.3"}}}}, Fixed: []string{"1.20.10", "1.21.3"}},
	},
		vulndb.Vulnerability{ID: "GHSA-35jh-r3h4-6jhm", Aliases: []string{"CVE-2021-23337"}, Title: "Command Injection in lodash", Severities: []vulndb.Severity{{Source: "ghsa", Severity: "HIGH"}}},
		vulndb.Vulnerability{ID: "CVE-2021-23337", Severities: []vulndb.Severity{{Source: "nvd", Severity: "HIGH"}}, CVSS: []vulndb.CVSS{{Source: "nvd", Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", Score: 7.2}}, EPSS: &vulndb.EPSS{Score: 0.0123, Percentile: 0.85}, KEV: &vulndb.KEV{DateAdded: "2024-01-01"}},
		vulndb.Vulnerability{ID: "PYSEC-2023-0001", Aliases: []string{"CVE-2023-46695", "GHSA-dddd-eeee-ffff"}},
		vulndb.Vulnerability{ID: "GHSA-dddd-eeee-ffff", Aliases: []string{"CVE-2023-46695"}, Severities: []vulndb.Severity{{Source: "ghsa", Severity: "MEDIUM"}}},
		vulndb.Vulnerability{ID: "GO-2023-2102", Aliases: []string{"CVE-2023-39325", "GHSA-4374-p667-p6c8"}},
	)
	inv := &inventory.Inventory{Results: []inventory.Result{
		{Target: "package-lock.json", Class: inventory.ClassLangPkgs, Type: "npm", Packages: []inventory.Package{
			{Name: "lodash", Version: "4.17.20", Purl: "pkg:npm/lodash@4.17.20"},
			{Name: "lodash", Version: "4.17.21", Purl: "pkg:npm/lodash@4.17.21"},
			{Name: "@babel/traverse", Version: "7.23.0", Purl: "pkg:npm/%40babel/traverse@7.23.0"},
		}},
		{Target: "site-packages", Class: inventory.ClassLangPkgs, Type: "python-pkg", Packages: []inventory.Package{
			{Name: "Django", Version: "4.2.5"}, // no purl: matched by result type, PEP 503 name
		}},
		{Target: "usr/local/bin/app", Class: inventory.ClassLangPkgs, Type: "gobinary", Packages: []inventory.Package{
			{Name: "stdlib", Version: "v1.21.1", Purl: "pkg:golang/stdlib@v1.21.1"},
		}},
	}}
	res := matchOne(t, store, inv)
	if got := ids(res, 0); !slices.Equal(got, []string{"@babel/traverse:GHSA-aaaa-bbbb-cccc:fixed", "lodash:CVE-2021-23337:fixed"}) {
		t.Errorf("npm findings = %q", got)
	}
	lodash := res.Findings[0][1]
	if lodash.Severity != "HIGH" || lodash.SeveritySource != "ghsa" || lodash.EPSS == nil || lodash.EPSS.Score != 0.0123 || lodash.KEV == nil ||
		lodash.CVSS["nvd"].V3Score != 7.2 || !slices.Equal(lodash.Aliases, []string{"GHSA-35jh-r3h4-6jhm"}) || lodash.Title != "Command Injection in lodash" ||
		lodash.PrimaryURL != "https://nvd.nist.gov/vuln/detail/CVE-2021-23337" {
		t.Errorf("lodash finding = %+v", lodash)
	}
	// PYSEC and GHSA records of one CVE collapse into one finding.
	if got := ids(res, 1); !slices.Equal(got, []string{"Django:CVE-2023-46695:fixed"}) {
		t.Errorf("python findings = %q", got)
	}
	dj := res.Findings[1][0]
	if !slices.Equal(dj.FixedVersions, []string{"3.2.23", "4.1.13", "4.2.7"}) || dj.Severity != "MEDIUM" {
		t.Errorf("django finding = %+v", dj)
	}
	if got := ids(res, 2); !slices.Equal(got, []string{"stdlib:CVE-2023-39325:fixed"}) {
		t.Errorf("go findings = %q", got)
	}
}

// TestMatchBundleExpandsToCVEs: a distribution advisory bundling CVEs is
// reported once per CVE, merged with other sources' records of that CVE.
func TestMatchBundleExpandsToCVEs(t *testing.T) {
	rec := func(id, src string) vulndb.Affected {
		return vulndb.Affected{VulnID: id, Source: src, Ecosystem: "debian:12", Package: "openssl", Status: vulndb.StatusFixed, Ranges: fixedRange("deb", "3.0.13-1~deb12u1"), Fixed: []string{"3.0.13-1~deb12u1"}}
	}
	store := newMemStore([]vulndb.Affected{
		rec("CVE-2024-0727", "debian"), rec("CVE-2023-6129", "debian"),
		rec("DSA-5000-1", "osv:Debian"), // bundles both CVEs
		rec("DSA-5001-1", "osv:Debian"), // names a CVE the tracker lacks
	},
		vulndb.Vulnerability{ID: "DSA-5000-1", Aliases: []string{"CVE-2024-0727", "CVE-2023-6129"}},
		vulndb.Vulnerability{ID: "DSA-5001-1", Aliases: []string{"CVE-2024-0727", "CVE-2024-9999"}},
	)
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{OS: &inventory.OS{Family: "debian", Name: "12"}},
		Results: []inventory.Result{{Class: inventory.ClassOSPkgs, Packages: []inventory.Package{
			{Name: "libssl3", Version: "3.0.11-1~deb12u2", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2"},
		}}},
	}
	res := matchOne(t, store, inv)
	want := []string{"libssl3:CVE-2023-6129:fixed", "libssl3:CVE-2024-0727:fixed", "libssl3:CVE-2024-9999:fixed"}
	if got := ids(res, 0); !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
	if f := res.Findings[0][1]; !slices.Equal(f.Aliases, []string{"DSA-5000-1", "DSA-5001-1"}) {
		t.Errorf("CVE-2024-0727 aliases = %q, want both DSAs and no other CVE", f.Aliases)
	}
	if f := res.Findings[0][2]; !slices.Equal(f.Aliases, []string{"DSA-5001-1"}) {
		t.Errorf("CVE-2024-9999 aliases = %q", f.Aliases)
	}
}

// TestMatchModulesWithoutModuleData: AlmaLinux and Rocky OSV records name
// no module stream, so a package built in a module is matched by records
// whose fixes are module builds, and never by non-modular fixes.
func TestMatchModulesWithoutModuleData(t *testing.T) {
	store := newMemStore([]vulndb.Affected{
		{VulnID: "ALSA-2023:5712", Source: "osv:AlmaLinux", Ecosystem: "alma:8", Package: "nginx", Status: vulndb.StatusFixed,
			Ranges: fixedRange("rpm", "1:1.20.1-1.module_el8.8.0+3624+abf02be4.1.alma.1"), Fixed: []string{"1:1.20.1-1.module_el8.8.0+3624+abf02be4.1.alma.1"}},
		{VulnID: "ALSA-2023:9999", Source: "osv:AlmaLinux", Ecosystem: "alma:8", Package: "nginx", Status: vulndb.StatusFixed,
			Ranges: fixedRange("rpm", "1:1.30.0-1.el8"), Fixed: []string{"1:1.30.0-1.el8"}},
	})
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{OS: &inventory.OS{Family: "alma", Name: "8.8"}},
		Results: []inventory.Result{{Class: inventory.ClassOSPkgs, Packages: []inventory.Package{
			{Name: "nginx", Version: "1:1.20.1-1.module_el8.7.0+3000+abf02be4", Epoch: 1, Modularitylabel: "nginx:1.20:8070020230101:abf02be4"},
		}}},
	}
	if got := ids(matchOne(t, store, inv), 0); !slices.Equal(got, []string{"nginx:ALSA-2023:5712:fixed"}) {
		t.Errorf("findings = %q", got)
	}
}

// TestMatchSkipsThirdPartyPackages: NodeSource's nodejs is not Debian's, so
// Debian's advisories for nodejs must not be applied to it, and the report
// says so.
func TestMatchSkipsThirdPartyPackages(t *testing.T) {
	store := newMemStore([]vulndb.Affected{deb("CVE-2024-0005", "nodejs", "", vulndb.StatusAffected, "LOW")})
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{OS: &inventory.OS{Family: "debian", Name: "12"}},
		Results: []inventory.Result{{Target: "img (debian 12)", Class: inventory.ClassOSPkgs, Packages: []inventory.Package{
			{Name: "nodejs", Version: "20.11.0-1nodesource1", Purl: "pkg:deb/debian/nodejs@20.11.0-1nodesource1?arch=amd64&distro=debian-12", Maintainer: "NodeSource <gpg@nodesource.com>"},
			{Name: "libnode108", Version: "18.19.0+dfsg-6~deb12u1", SourceName: "nodejs", Purl: "pkg:deb/debian/libnode108@18.19.0%2Bdfsg-6~deb12u1?arch=amd64&distro=debian-12", Maintainer: "Debian Javascript Maintainers <pkg-javascript-devel@alioth-lists.debian.net>"},
		}}},
	}
	res := matchOne(t, store, inv)
	if got := ids(res, 0); !slices.Equal(got, []string{"libnode108:CVE-2024-0005:affected"}) {
		t.Errorf("findings = %q", got)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "1 packages from third-party repositories") {
		t.Errorf("notes = %q", res.Notes)
	}
}

// TestMatchNoticeThroughUpstreamRecord: a USN names its CVE only through
// the UBUNTU-CVE record it lists as upstream; it is reported as that CVE
// and merges with the UBUNTU-CVE record's finding.
func TestMatchNoticeThroughUpstreamRecord(t *testing.T) {
	rec := func(id string) vulndb.Affected {
		return vulndb.Affected{VulnID: id, Source: "osv:Ubuntu", Ecosystem: "ubuntu:22.04", Package: "wayland", Status: vulndb.StatusFixed,
			Ranges: fixedRange("deb", "1.20.0-1ubuntu0.1"), Fixed: []string{"1.20.0-1ubuntu0.1"}}
	}
	store := newMemStore([]vulndb.Affected{rec("UBUNTU-CVE-2021-3782"), rec("USN-5614-1")},
		vulndb.Vulnerability{ID: "UBUNTU-CVE-2021-3782", Aliases: []string{"CVE-2021-3782"}},
		vulndb.Vulnerability{ID: "USN-5614-1", Aliases: []string{"UBUNTU-CVE-2021-3782"}},
	)
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{OS: &inventory.OS{Family: "ubuntu", Name: "22.04"}},
		Results: []inventory.Result{{Class: inventory.ClassOSPkgs, Packages: []inventory.Package{
			{Name: "libwayland-client0", Version: "1.20.0-1", SourceName: "wayland", SourceVersion: "1.20.0-1"},
		}}},
	}
	res := matchOne(t, store, inv)
	if got := ids(res, 0); !slices.Equal(got, []string{"libwayland-client0:CVE-2021-3782:fixed"}) {
		t.Fatalf("findings = %q", got)
	}
	if a := res.Findings[0][0].Aliases; !slices.Contains(a, "USN-5614-1") || !slices.Contains(a, "UBUNTU-CVE-2021-3782") {
		t.Errorf("aliases = %q", a)
	}
}

// TestMatchCaseInsensitiveNames: NuGet ids and Composer names are matched
// whatever the case the lockfile writes them in.
func TestMatchCaseInsensitiveNames(t *testing.T) {
	rng := []vulndb.Range{{Scheme: "nuget", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "13.0.1"}}}}
	store := newMemStore([]vulndb.Affected{
		{VulnID: "GHSA-5crp-9r3c-p9vr", Source: "osv:NuGet", Ecosystem: "NuGet", Package: "newtonsoft.json", Status: vulndb.StatusFixed, Ranges: rng, Fixed: []string{"13.0.1"}},
		{VulnID: "GHSA-aaaa-bbbb-cccc", Source: "osv:Packagist", Ecosystem: "Packagist", Package: "symfony/http-kernel", Status: vulndb.StatusFixed,
			Ranges: []vulndb.Range{{Scheme: "composer", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "5.4.20"}}}}, Fixed: []string{"5.4.20"}},
	})
	inv := &inventory.Inventory{Results: []inventory.Result{
		{Class: inventory.ClassLangPkgs, Type: "nuget", Packages: []inventory.Package{{Name: "Newtonsoft.Json", Version: "12.0.3", Purl: "pkg:nuget/Newtonsoft.Json@12.0.3"}}},
		{Class: inventory.ClassLangPkgs, Type: "composer", Packages: []inventory.Package{{Name: "Symfony/HTTP-Kernel", Version: "5.4.1", Purl: "pkg:composer/Symfony/HTTP-Kernel@5.4.1"}}},
	}}
	res := matchOne(t, store, inv)
	if len(res.Findings[0]) != 1 || len(res.Findings[1]) != 1 {
		t.Errorf("findings = %q / %q", ids(res, 0), ids(res, 1))
	}
}

// TestMatchUnparsableInstalledVersion checks that an installed version its
// scheme cannot parse is a warning naming the package, not a silent "no
// findings", and that the other packages are still matched.
func TestMatchUnparsableInstalledVersion(t *testing.T) {
	store := newMemStore([]vulndb.Affected{
		deb("CVE-2024-0001", "openssl", "3.0.11-1~deb12u2", vulndb.StatusFixed, "HIGH"),
		deb("CVE-2024-0003", "openssl", "", vulndb.StatusAffected, "LOW"),
		deb("CVE-2024-0006", "zlib", "1:1.2.13.dfsg-2", vulndb.StatusFixed, "HIGH"),
		{VulnID: "GHSA-aaaa", Source: "ghsa", Ecosystem: "npm", Package: "lodash", Ranges: fixedRange("npm", "4.17.21")},
	})
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{OS: &inventory.OS{Family: "debian", Name: "12"}},
		Results: []inventory.Result{
			{Target: "img (debian 12)", Class: inventory.ClassOSPkgs, Type: "debian", Packages: []inventory.Package{
				{Name: "libssl3", Version: "3.0.11-1~deb12u1", SourceName: "openssl", SourceVersion: "not a version",
					Layer: inventory.LayerRef{DiffID: "sha256:aa"}},
				{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", SourceName: "zlib", SourceVersion: "1:1.2.13.dfsg-1"},
				{Name: "nodata", Version: "also not a version"}, // no records: nothing to warn about
			}},
			{Target: "app/package-lock.json", Class: inventory.ClassLangPkgs, Type: "npm", Packages: []inventory.Package{
				{Name: "lodash", Version: "4.x-garbage", FilePath: "app/package-lock.json"},
			}},
		},
	}
	res := matchOne(t, store, inv)
	if got, want := ids(res, 0), []string{"zlib1g:CVE-2024-0006:fixed"}; !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
	if len(res.Findings[1]) != 0 {
		t.Errorf("lodash findings = %v, want none", res.Findings[1])
	}
	if len(res.Warnings) != 2 {
		t.Fatalf("warnings = %+v, want 2", res.Warnings)
	}
	w := res.Warnings[0]
	if w.Layer != "sha256:aa" || w.Path != "" || !strings.HasPrefix(w.Message, "match: libssl3 3.0.11-1~deb12u1 in img (debian 12): the installed version cannot be compared (deb version \"not a version\"") ||
		!strings.HasSuffix(w.Message, "its 2 advisory records were not checked") {
		t.Errorf("warning = %+v", w)
	}
	if w := res.Warnings[1]; w.Path != "app/package-lock.json" || !strings.Contains(w.Message, "match: lodash 4.x-garbage in app/package-lock.json") {
		t.Errorf("warning = %+v", w)
	}
}
