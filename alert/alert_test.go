package alert

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/vulndb"
)

var update = flag.Bool("update", false, "rewrite golden files")

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to refresh):\n%s", path, got)
	}
}

// testNow is the fixed clock of rendering tests.
var testNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

const (
	digestApp = "sha256:4f8a1e2c9b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f"
	digestAPI = "sha256:9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
)

// sampleAlerts is one image rebuilt and one new image: a known exploited
// CRITICAL, a HIGH with EPSS, a MEDIUM without a fix whose title starts with
// "." (dot-stuffing in email) and text meant for markup ("<script>", "&").
func sampleAlerts() []Alert {
	return []Alert{
		{
			IdempotencyKey: "k-openssl", Reason: ReasonRebuiltTag,
			Image: "registry.example.com/team/app:1.4@" + digestApp, Registry: "registry.example.com",
			Repository: "team/app", Digest: digestApp, Tags: []string{"1.4", "latest"},
			ID: "CVE-2023-0286", Aliases: []string{"GHSA-x4qr-2fvf-3mr5"},
			Package: "libcrypto3", InstalledVersion: "3.0.7-r0", FixedVersion: "3.0.8-r0",
			Purl:     "pkg:apk/alpine/libcrypto3@3.0.7-r0?arch=x86_64&distro=alpine-3.17.1",
			Severity: match.SeverityHigh, Status: vulndb.StatusFixed,
			Title: "X.400 address type confusion in X.509 GeneralName",
			URL:   "https://avd.example.org/nvd/cve-2023-0286",
			EPSS:  0.0123, EPSSPercentile: 0.853,
			FirstSeen: testNow.Add(-2 * time.Hour),
		},
		{
			IdempotencyKey: "k-xz", Reason: ReasonRebuiltTag,
			Image: "registry.example.com/team/app:1.4@" + digestApp, Registry: "registry.example.com",
			Repository: "team/app", Digest: digestApp, Tags: []string{"1.4", "latest"},
			ID:      "CVE-2024-3094",
			Package: "xz-libs", InstalledVersion: "5.6.0-r0", FixedVersion: "5.6.1-r2",
			Severity: match.SeverityCritical, Status: vulndb.StatusFixed,
			Title: "Malicious code in xz <5.6.2 & liblzma",
			URL:   "https://avd.example.org/nvd/cve-2024-3094",
			KEV:   true, EPSS: 0.8417, EPSSPercentile: 0.9931,
			FirstSeen: testNow.Add(-2 * time.Hour),
		},
		{
			IdempotencyKey: "k-dotnet", Reason: ReasonNewImage,
			Image: "registry.example.com/team/api:2.0@" + digestAPI, Registry: "registry.example.com",
			Repository: "team/api", Digest: digestAPI, Tags: []string{"2.0"},
			ID:      "CVE-2024-21319",
			Package: "Microsoft.IdentityModel.JsonWebTokens", InstalledVersion: "7.0.3",
			Severity: match.SeverityMedium, Status: vulndb.StatusAffected,
			Title:     ".NET Denial of Service Vulnerability\n<script>alert(1)</script>",
			URL:       "javascript:alert(1)",
			FirstSeen: testNow.Add(-time.Minute),
		},
	}
}

func TestBatchKey(t *testing.T) {
	a := sampleAlerts()
	k := BatchKey(a)
	if len(k) != 64 {
		t.Fatalf("BatchKey = %q, want 64 hex digits", k)
	}
	rev := slices.Clone(a)
	slices.Reverse(rev)
	if BatchKey(rev) != k {
		t.Error("BatchKey depends on the order of the alerts")
	}
	if BatchKey(a[:2]) == k {
		t.Error("BatchKey of a subset equals the whole batch's")
	}
	noKey := slices.Clone(a)
	noKey[0].IdempotencyKey = ""
	if BatchKey(noKey) == k {
		t.Error("an alert without key hashed like one with key")
	}
	if BatchKey(noKey) != BatchKey(prepare(noKey, "")) {
		t.Error("BatchKey does not use DefaultKey for alerts without a key, as Send does")
	}
}

func TestDefaultKey(t *testing.T) {
	a := sampleAlerts()[0]
	b := a
	b.InstalledVersion = "3.0.7-r1"
	c := a
	c.Digest = digestAPI
	d := a
	d.Reason, d.Severity, d.Title = ReasonNewAdvisory, match.SeverityLow, "other" // not identity
	if a.DefaultKey() == b.DefaultKey() || a.DefaultKey() == c.DefaultKey() {
		t.Error("DefaultKey does not tell apart different packages or images")
	}
	if a.DefaultKey() != d.DefaultKey() {
		t.Error("DefaultKey changed with fields that do not identify the finding")
	}
}

func TestPrepare(t *testing.T) {
	in := sampleAlerts()
	in[0].IdempotencyKey = ""
	out := prepare(in, "https://vigil.example.com/")
	if in[0].IdempotencyKey != "" || in[0].DashboardURL != "" {
		t.Error("prepare changed its input")
	}
	if out[0].IdempotencyKey != in[0].DefaultKey() {
		t.Errorf("key = %q, want DefaultKey", out[0].IdempotencyKey)
	}
	if out[1].Aliases == nil {
		t.Error("Aliases left nil: JSON would be null")
	}
	for sev, want := range map[string]string{"high": "HIGH", "CRITICAL": "CRITICAL", "": "UNKNOWN", "Important": "UNKNOWN"} {
		if got := prepare([]Alert{{Severity: sev}}, "")[0].Severity; got != want {
			t.Errorf("severity %q sent as %q, want %q", sev, got, want)
		}
	}
	if want := "https://vigil.example.com/images/" + digestApp; out[0].DashboardURL != want {
		t.Errorf("DashboardURL = %q, want %q", out[0].DashboardURL, want)
	}
}

func TestFromFinding(t *testing.T) {
	f := match.Finding{
		ID: "CVE-2024-3094", Aliases: []string{"GHSA-x"}, PkgName: "xz-libs", PkgPurl: "pkg:apk/alpine/xz-libs@5.6.0-r0",
		InstalledVersion: "5.6.0-r0", FixedVersion: "5.6.1-r2", Status: vulndb.StatusFixed, Severity: "CRITICAL",
		Title: "t", PrimaryURL: "https://u", KEV: &vulndb.KEV{DateAdded: "2024-04-01"},
		EPSS: &vulndb.EPSS{Score: 0.84, Percentile: 0.99},
	}
	a := FromFinding(f)
	want := Alert{ID: f.ID, Aliases: f.Aliases, Package: "xz-libs", Purl: f.PkgPurl, InstalledVersion: "5.6.0-r0",
		FixedVersion: "5.6.1-r2", Status: vulndb.StatusFixed, Severity: "CRITICAL", Title: "t", URL: "https://u",
		KEV: true, EPSS: 0.84, EPSSPercentile: 0.99}
	if a.ID != want.ID || !slices.Equal(a.Aliases, want.Aliases) || a.Package != want.Package || a.Purl != want.Purl ||
		a.InstalledVersion != want.InstalledVersion || a.FixedVersion != want.FixedVersion || a.Status != want.Status ||
		a.Severity != want.Severity || a.Title != want.Title || a.URL != want.URL || a.KEV != want.KEV ||
		a.EPSS != want.EPSS || a.EPSSPercentile != want.EPSSPercentile {
		t.Errorf("FromFinding = %+v\nwant %+v", a, want)
	}
	f.Aliases[0] = "changed"
	if a.Aliases[0] != "GHSA-x" {
		t.Error("FromFinding shares the Aliases slice with the finding")
	}
	if FromFinding(match.Finding{}).KEV {
		t.Error("a finding without KEV entry became KEV")
	}
}

func TestHeadline(t *testing.T) {
	a := sampleAlerts()
	for _, tt := range []struct {
		alerts []Alert
		want   string
	}{
		{a, "3 new vulnerabilities (1 CRITICAL, 1 HIGH, 1 MEDIUM) in 2 images"},
		{a[:1], "1 new vulnerability (1 HIGH) in registry.example.com/team/app:1.4"},
		{[]Alert{{Image: "r/x@" + digestApp, Severity: "bogus"}}, "1 new vulnerability (1 UNKNOWN) in r/x@sha256:4f8a1e2c9b7d"},
	} {
		if got := summarize(tt.alerts).headline(); got != tt.want {
			t.Errorf("headline = %q, want %q", got, tt.want)
		}
	}
}
