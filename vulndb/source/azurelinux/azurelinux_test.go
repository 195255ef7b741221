package azurelinux

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

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/fetch"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/oval"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func ranges(events ...vulndb.Event) []vulndb.Range {
	return []vulndb.Range{{Scheme: vulndb.SchemeRPM, Events: events}}
}

// mirror lays the given files out under a temporary directory with the
// upstream names (symlinks: the shared samples are never copied).
func mirror(t *testing.T, files map[string]string) *fetch.Fetcher {
	t.Helper()
	dir := t.TempDir()
	for name, target := range files {
		abs, err := filepath.Abs(target)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	f, err := fetch.New("file://"+dir, fetch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func load(t *testing.T, src *Source, f vulndb.Fetcher) (*vulndbtest.KeyedSink, string) {
	t.Helper()
	var logs bytes.Buffer
	src.logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sink := vulndbtest.NewKeyedSink()
	if err := src.Load(context.Background(), f, sink); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return sink, logs.String()
}

// TestRealAzureLinux reads Grype's truncated copy of azurelinux-3.0-oval.xml.
// Expected values read by hand: definition 39708 is CVE-2024-24258 for
// freeglut, severity High, test 39708000 → object freeglut, state
// "less than 0:3.4.0-1.azl3"; definition 39076 is CVE-2020-27304 for ceph,
// Critical, "less than 0:18.2.1-1.azl3". Three definitions in all.
func TestRealAzureLinux(t *testing.T) {
	p := testutil.Shared(t, "data/feeds/azure-linux-oval/azure-linux-truncated-3.0-oval.xml")
	sink, logs := load(t, New(Options{}), mirror(t, map[string]string{"azurelinux-3.0-oval.xml": p}))
	if logs != "" {
		t.Errorf("unexpected warnings:\n%s", logs)
	}
	if len(sink.Affected) != 3 || len(sink.Vulns) != 3 {
		t.Errorf("got %d affected, %d vulnerabilities; want 3, 3", len(sink.Affected), len(sink.Vulns))
	}
	want := vulndb.Affected{
		VulnID: "CVE-2024-24258", Source: "azurelinux", Ecosystem: "azurelinux:3.0", Package: "freeglut",
		Ranges: ranges(vulndb.Event{Introduced: "0"}, vulndb.Event{Fixed: "3.4.0-1.azl3"}),
		Fixed:  []string{"3.4.0-1.azl3"}, Status: vulndb.StatusFixed, Severity: "HIGH",
	}
	if got := sink.Affected["azurelinux:3.0/freeglut/CVE-2024-24258"]; !reflect.DeepEqual(got, want) {
		t.Errorf("freeglut:\n got %+v\nwant %+v", got, want)
	}
	ceph := sink.Affected["azurelinux:3.0/ceph/CVE-2020-27304"]
	if ceph.Severity != "CRITICAL" || !reflect.DeepEqual(ceph.Fixed, []string{"18.2.1-1.azl3"}) {
		t.Errorf("ceph = %+v", ceph)
	}
	wantV := vulndb.Vulnerability{
		ID: "CVE-2020-27304", Severities: []vulndb.Severity{{Source: "azurelinux", Severity: "CRITICAL"}},
		References: []string{"https://nvd.nist.gov/vuln/detail/CVE-2020-27304"}, Sources: []string{"azurelinux"},
	}
	if got := sink.Vulns["CVE-2020-27304"]; !reflect.DeepEqual(got, wantV) {
		t.Errorf("CVE-2020-27304:\n got %+v\nwant %+v", got, wantV)
	}
}

// TestRealMariner reads Grype's truncated cbl-mariner-2.0-oval.xml. By hand:
// CVE-2023-29404 golang has a "less than 0:1.20.7-1.cm2" and a "greater
// than 0:1.19.0.cm2" test; CVE-2023-0687 glibc is patchable "Not
// Applicable"; CVE-2022-3736 bind is patchable false with "less than or
// equal 0:9.16.33-1.cm2"; two mysql CVEs are fixed in 0:8.0.33-1.cm2.
func TestRealMariner(t *testing.T) {
	p := testutil.Shared(t, "data/feeds/azure-linux-oval/mariner-truncated-2.0-oval.xml")
	sink, logs := load(t, NewMariner(Options{}), mirror(t, map[string]string{"cbl-mariner-2.0-oval.xml": p}))
	if !strings.Contains(logs, "cbl-mariner-1.0-oval.xml") {
		t.Errorf("missing 1.0 file not reported:\n%s", logs)
	}
	tests := []struct {
		key  string
		want vulndb.Affected
	}{
		{"cbl-mariner:2.0/golang/CVE-2023-29404", vulndb.Affected{
			Ranges: ranges(vulndb.Event{Introduced: "1.19.0.cm2"}, vulndb.Event{Fixed: "1.20.7-1.cm2"}),
			Fixed:  []string{"1.20.7-1.cm2"}, Status: vulndb.StatusFixed, Severity: "CRITICAL"}},
		{"cbl-mariner:2.0/glibc/CVE-2023-0687", vulndb.Affected{
			Status: vulndb.StatusNotAffected, Severity: "CRITICAL"}},
		{"cbl-mariner:2.0/bind/CVE-2022-3736", vulndb.Affected{
			Ranges: ranges(vulndb.Event{Introduced: "0"}, vulndb.Event{LastAffected: "9.16.33-1.cm2"}),
			Status: vulndb.StatusAffected, Severity: "HIGH"}},
		{"cbl-mariner:2.0/mysql/CVE-2023-21977", vulndb.Affected{
			Ranges: ranges(vulndb.Event{Introduced: "0"}, vulndb.Event{Fixed: "8.0.33-1.cm2"}),
			Fixed:  []string{"8.0.33-1.cm2"}, Status: vulndb.StatusFixed, Severity: "MEDIUM"}},
	}
	for _, tt := range tests {
		got, ok := sink.Affected[tt.key]
		if !ok {
			t.Errorf("%s missing", tt.key)
			continue
		}
		parts := strings.Split(tt.key, "/")
		tt.want.Ecosystem, tt.want.Package, tt.want.VulnID, tt.want.Source = parts[0], parts[1], parts[2], "cbl-mariner"
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.key, got, tt.want)
		}
	}
	if len(sink.Affected) != 5 {
		t.Errorf("got %d affected records, want 5", len(sink.Affected))
	}
}

func TestFixtureMalformed(t *testing.T) {
	f, err := fetch.New(filepath.Join("testdata", "mirror"), fetch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sink, logs := load(t, NewMariner(Options{}), f)
	want := vulndb.Affected{
		VulnID: "CVE-2024-0001", Source: "cbl-mariner", Ecosystem: "cbl-mariner:2.0", Package: "curl-libs",
		Ranges: ranges(vulndb.Event{Introduced: "0"}, vulndb.Event{Fixed: "8.8.0-1.cm2"}),
		Fixed:  []string{"8.8.0-1.cm2"}, Status: vulndb.StatusFixed, Severity: "LOW",
	}
	if got := sink.Affected["cbl-mariner:2.0/curl-libs/CVE-2024-0001"]; !reflect.DeepEqual(got, want) {
		t.Errorf("curl-libs:\n got %+v\nwant %+v", got, want)
	}
	if len(sink.Affected) != 2 || len(sink.Vulns) != 1 {
		t.Errorf("got %d affected, %d vulnerabilities; want 2, 1", len(sink.Affected), len(sink.Vulns))
	}
	for _, w := range []string{
		"definition=def:2 cve=CVE-2024-0002", "tst:missing",
		"definition=def:3", `unsupported evr operation \"equals\"`,
		"definition=def:4", "no CVE reference",
	} {
		if !strings.Contains(logs, w) {
			t.Errorf("warnings lack %q:\n%s", w, logs)
		}
	}
}

func TestTruncatedAndMissing(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "mirror", "cbl-mariner-2.0-oval.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{len(raw) / 2, len(raw) - 20} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "cbl-mariner-2.0-oval.xml"), raw[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		f, _ := fetch.New(dir, fetch.Options{})
		err := NewMariner(Options{}).Load(context.Background(), f, vulndbtest.NewKeyedSink())
		if !errors.Is(err, oval.ErrTruncated) || !strings.Contains(err.Error(), "cbl-mariner-2.0-oval.xml") {
			t.Errorf("cut at %d: err = %v, want ErrTruncated naming the file", n, err)
		}
	}
	f, _ := fetch.New(t.TempDir(), fetch.Options{})
	if err := New(Options{}).Load(context.Background(), f, vulndbtest.NewKeyedSink()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty mirror: err = %v, want fs.ErrNotExist", err)
	}
}
