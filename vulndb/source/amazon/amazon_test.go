package amazon

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/fetch"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func fixedRange(evr string) []vulndb.Range {
	return []vulndb.Range{{Scheme: vulndb.SchemeRPM, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: evr}}}}
}

// symlinkMirror lays shared samples out with their upstream paths
// (symlinks: the samples are never copied).
func symlinkMirror(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, target := range files {
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, dst); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T, base string) (*vulndbtest.KeyedSink, string) {
	t.Helper()
	f, err := fetch.New(base, fetch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	src := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	sink := vulndbtest.NewKeyedSink()
	if err := src.Load(context.Background(), f, sink); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return sink, logs.String()
}

// TestRealSamples loads Grype's copies of the AL2 and AL2023 feeds and
// pages. Read by hand from the samples: ALAS-2018-939 (AL2, Critical,
// CVE-2017-5715 and CVE-2017-5754) lists kernel-4.9.76-38.79.amzn2 for
// x86_64 only, kernel-doc as noarch and 13 binary names besides the src
// rpm; the AL2023 page's heading is ALAS2023-2023-126 (the RSS title says
// ALAS-2023-126), severity Important, three CVEs, kpartx
// 0.8.7-16.amzn2023.0.1 for aarch64, i686 and x86_64, 11 binary names.
func TestRealSamples(t *testing.T) {
	d := testutil.Shared(t, "data/feeds/amazon-alas")
	base := symlinkMirror(t, map[string]string{
		"AL2/alas.rss":              filepath.Join(d, "2_rss.xml"),
		"AL2/ALAS-2018-939.html":    filepath.Join(d, "2_html", "ALAS-2018-939.html"),
		"AL2023/alas.rss":           filepath.Join(d, "2023_rss.xml"),
		"AL2023/ALAS-2023-126.html": filepath.Join(d, "2023_html", "ALAS-2023-126.html"),
	})
	sink, logs := load(t, base)
	if !strings.Contains(logs, "file=alas.rss") || strings.Count(logs, "level=WARN") != 1 {
		t.Errorf("want exactly one warning, for the missing AL1 feed:\n%s", logs)
	}

	want := vulndb.Affected{
		VulnID: "ALAS-2018-939", Source: "amazon", Ecosystem: "amazon:2", Package: "kernel",
		Ranges: fixedRange("4.9.76-38.79.amzn2"), Fixed: []string{"4.9.76-38.79.amzn2"},
		Status: vulndb.StatusFixed, Severity: "CRITICAL", Arches: []string{"x86_64"},
	}
	if got := sink.Affected["amazon:2/kernel/ALAS-2018-939"]; !reflect.DeepEqual(got, want) {
		t.Errorf("kernel:\n got %+v\nwant %+v", got, want)
	}
	if got := sink.Affected["amazon:2/kernel-doc/ALAS-2018-939"].Arches; !reflect.DeepEqual(got, []string{"noarch"}) {
		t.Errorf("kernel-doc arches = %v", got)
	}
	v := sink.Vulns["ALAS-2018-939"]
	if !reflect.DeepEqual(v.Aliases, []string{"CVE-2017-5715", "CVE-2017-5754"}) ||
		!v.Published.Equal(time.Date(2018, 1, 11, 21, 5, 0, 0, time.UTC)) ||
		!v.Modified.Equal(time.Date(2018, 1, 16, 1, 28, 0, 0, time.UTC)) ||
		!reflect.DeepEqual(v.References, []string{"https://alas.aws.amazon.com/AL2/ALAS-2018-939.html"}) ||
		!strings.HasPrefix(v.Description, "An updated kernel release for Amazon Linux") {
		t.Errorf("ALAS-2018-939 = %+v", v)
	}

	kpartx := sink.Affected["amazon:2023/kpartx/ALAS2023-2023-126"]
	if !reflect.DeepEqual(kpartx.Arches, []string{"aarch64", "i686", "x86_64"}) ||
		!reflect.DeepEqual(kpartx.Fixed, []string{"0.8.7-16.amzn2023.0.1"}) || kpartx.Severity != "HIGH" {
		t.Errorf("kpartx = %+v", kpartx)
	}
	v = sink.Vulns["ALAS2023-2023-126"]
	if !reflect.DeepEqual(v.Aliases, []string{"ALAS-2023-126", "CVE-2022-3787", "CVE-2022-41973", "CVE-2022-41974"}) {
		t.Errorf("ALAS2023-2023-126 aliases = %v", v.Aliases)
	}

	var al2, al2023 int
	for _, a := range sink.Affected {
		switch a.Ecosystem {
		case "amazon:2":
			al2++
		case "amazon:2023":
			al2023++
		}
	}
	if al2 != 13 || al2023 != 11 || len(sink.Affected) != 24 {
		t.Errorf("affected records: amazon:2 %d, amazon:2023 %d, total %d; want 13, 11, 24", al2, al2023, len(sink.Affected))
	}
}

// TestRealAL2022Page parses the AL2022 sample page directly (the preview
// release is not loaded): vim-minimal 8.2.3512-1.amzn2022 on aarch64,
// i686 and x86_64; vim-filesystem noarch; severity Medium.
func TestRealAL2022Page(t *testing.T) {
	raw, err := os.ReadFile(testutil.Shared(t, "data/feeds/amazon-alas/2022_html/ALAS-2021-001.html"))
	if err != nil {
		t.Fatal(err)
	}
	p := parsePage(string(raw))
	if p.id != "ALAS-2021-001" && p.id != "ALAS2022-2021-001" {
		t.Errorf("id = %q", p.id)
	}
	if p.severity != "Medium" || p.truncated {
		t.Errorf("severity = %q, truncated = %v", p.severity, p.truncated)
	}
	var arches []string
	for _, pk := range p.packages {
		if pk.name == "vim-minimal" {
			if pk.evr != "8.2.3512-1.amzn2022" {
				t.Errorf("vim-minimal evr = %q", pk.evr)
			}
			arches = append(arches, pk.arch)
		}
		if pk.name == "vim-filesystem" && pk.arch != "noarch" {
			t.Errorf("vim-filesystem arch = %q", pk.arch)
		}
	}
	if !reflect.DeepEqual(arches, []string{"aarch64", "i686", "x86_64"}) {
		t.Errorf("vim-minimal arches = %v", arches)
	}
}

func TestFixture(t *testing.T) {
	sink, logs := load(t, filepath.Join("testdata", "mirror"))
	if len(sink.Vulns) != 1 {
		t.Errorf("got %d advisories, want 1: %v", len(sink.Vulns), sink.Vulns)
	}
	want := vulndb.Affected{
		VulnID: "ALAS2-2024-0001", Source: "amazon", Ecosystem: "amazon:2", Package: "openssl-libs",
		Ranges: fixedRange("1:1.0.2k-24.amzn2.0.12"), Fixed: []string{"1:1.0.2k-24.amzn2.0.12"},
		Status: vulndb.StatusFixed, Severity: "HIGH", Arches: []string{"i686", "x86_64"},
	}
	if got := sink.Affected["amazon:2/openssl-libs/ALAS2-2024-0001"]; !reflect.DeepEqual(got, want) {
		t.Errorf("openssl-libs:\n got %+v\nwant %+v", got, want)
	}
	// "1:openssl-…" (epoch before the name) and "openssl-perl-1:…".
	if got := sink.Affected["amazon:2/openssl/ALAS2-2024-0001"].Fixed; !reflect.DeepEqual(got, []string{"1:1.0.2k-24.amzn2.0.12"}) {
		t.Errorf("openssl fixed = %v", got)
	}
	if got := sink.Affected["amazon:2/openssl-perl/ALAS2-2024-0001"].Arches; !reflect.DeepEqual(got, []string{"noarch"}) {
		t.Errorf("openssl-perl arches = %v", got)
	}
	if len(sink.Affected) != 3 {
		t.Errorf("got %d affected records, want 3 (no src, no junk line)", len(sink.Affected))
	}
	v := sink.Vulns["ALAS2-2024-0001"]
	if v.Description != "Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash & fail. (CVE-2024-0727)\nSecond paragraph. (CVE-2023-6129)" {
		t.Errorf("description = %q", v.Description)
	}
	for _, w := range []string{
		"id=ALAS2-2024-0002", // page missing
		"id=ALAS2-2024-0003", "truncated",
		`title="Something that is not an advisory"`,
		"ALAS2-2024-0004 (low): evil", "passwd",
		"id=ALAS2-2024-0005", "New Packages",
	} {
		if !strings.Contains(logs, w) {
			t.Errorf("warnings lack %q:\n%s", w, logs)
		}
	}
	if strings.Contains(logs, "ALAS2KERNEL") {
		t.Errorf("extras advisory should be skipped silently:\n%s", logs)
	}
}

func TestTruncatedFeed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "mirror", "AL2", "alas.rss"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "AL2"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "AL2", "alas.rss"), raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	f, _ := fetch.New(dir, fetch.Options{})
	err = New(Options{}).Load(context.Background(), f, vulndbtest.NewKeyedSink())
	if err == nil || !strings.Contains(err.Error(), "AL2/alas.rss") || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("err = %v, want a truncation error naming AL2/alas.rss", err)
	}
	f, _ = fetch.New(t.TempDir(), fetch.Options{})
	if err := New(Options{}).Load(context.Background(), f, vulndbtest.NewKeyedSink()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty mirror: err = %v, want fs.ErrNotExist", err)
	}
}

func TestParseNEVRA(t *testing.T) {
	tests := []struct {
		in, arch string
		want     pkg
		ok       bool
	}{
		{"kernel-4.9.76-38.79.amzn2.x86_64", "x86_64", pkg{"kernel", "4.9.76-38.79.amzn2", "x86_64"}, true},
		{"kernel-debuginfo-common-x86_64-4.9.76-38.79.amzn2.x86_64", "x86_64", pkg{"kernel-debuginfo-common-x86_64", "4.9.76-38.79.amzn2", "x86_64"}, true},
		{"1:openssl-1.0.2k-24.amzn2.0.12.x86_64", "x86_64", pkg{"openssl", "1:1.0.2k-24.amzn2.0.12", "x86_64"}, true},
		{"openssl-1:1.0.2k-24.amzn2.0.12.x86_64", "x86_64", pkg{"openssl", "1:1.0.2k-24.amzn2.0.12", "x86_64"}, true},
		{"kernel-4.9.76-38.79.amzn2.aarch64", "x86_64", pkg{}, false},
		{"kernel.x86_64", "x86_64", pkg{}, false},
		{"not a package", "x86_64", pkg{}, false},
	}
	for _, tt := range tests {
		got, ok := parseNEVRA(tt.in, tt.arch)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseNEVRA(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestParsePageHostile cuts a real page at every length and feeds odd
// markup: parsePage must never panic, and cut pages are marked truncated.
func TestParsePageHostile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "mirror", "AL2", "ALAS2-2024-0001.html"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for n := 0; n < len(doc)-20; n++ {
		if p := parsePage(doc[:n]); !p.truncated {
			t.Fatalf("page cut at %d not marked truncated", n)
		}
	}
	for _, s := range []string{"<", "<div id='new_packages'", "<div id=new_packages><pre>x86_64:<br>a-1-1.x86_64", "<h1 id=", "</html>"} {
		parsePage(s)
	}
}
