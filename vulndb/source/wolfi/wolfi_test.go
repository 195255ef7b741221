package wolfi

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func load(t *testing.T, f vulndb.Fetcher) (*vulndbtest.Sink, *vulndbtest.Log, error) {
	t.Helper()
	var log vulndbtest.Log
	sink := &vulndbtest.Sink{}
	err := New(Options{Logger: log.Logger()}).Load(context.Background(), f, sink)
	return sink, &log, err
}

func check(t *testing.T, sink *vulndbtest.Sink, pkg, id string, status vulndb.Status, fixed ...string) {
	t.Helper()
	got := sink.FindAffected("wolfi", pkg, id)
	if len(got) != 1 {
		t.Fatalf("%s %s: %d records", pkg, id, len(got))
	}
	a := got[0]
	if a.Status != status || !slices.Equal(a.Fixed, fixed) || a.Source != "wolfi" {
		t.Errorf("%s %s: got %+v", pkg, id, a)
	}
}

func TestLoad(t *testing.T) {
	sink, log, err := load(t, vulndbtest.Dir("testdata"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, sink, "glibc", "CVE-2010-4756", vulndb.StatusNotAffected)
	check(t, sink, "glibc", "CVE-2023-4911", vulndb.StatusFixed, "2.38-r5")
	check(t, sink, "busybox", "GHSA-aaaa-bbbb-cccc", vulndb.StatusFixed, "1.36.1-r2")
	if n := len(sink.Affected); n != 4 {
		t.Errorf("%d records, want 4", n)
	}
	if w := log.Warnings(); len(w) != 1 || !strings.Contains(w[0], "index=1") {
		t.Errorf("warnings: %v", w)
	}
}

func TestTruncated(t *testing.T) {
	b, err := os.ReadFile("testdata/truncated.json")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = load(t, vulndbtest.Files{"security.json": string(b)})
	if err == nil || !strings.Contains(err.Error(), "security.json") {
		t.Errorf("err = %v", err)
	}
	if _, _, err := load(t, vulndbtest.Files{}); err == nil {
		t.Error("missing file: no error")
	}
}

// TestSharedSample checks wolfi-secdb/security.json: coreutils lists
// CVE-2016-2781 under "0", expat lists CVE-2022-43680 under "2.5.0-r0"; the
// file names 59 distinct (package, id) pairs (counted with a short script
// splitting every entry on whitespace).
func TestSharedSample(t *testing.T) {
	dir := testutil.Shared(t, "data/feeds/wolfi-secdb")
	sink, log, err := load(t, vulndbtest.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	check(t, sink, "coreutils", "CVE-2016-2781", vulndb.StatusNotAffected)
	check(t, sink, "expat", "CVE-2022-43680", vulndb.StatusFixed, "2.5.0-r0")
	if n := len(sink.Affected); n != 59 {
		t.Errorf("%d records, want 59", n)
	}
	if w := log.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
}

// TestSharedSample checks chainguard-secdb/security.json: git lists
// CVE-2023-22743 under "0" next to three fixed versions, openssl lists
// CVE-2022-3996 under "3.0.7-r1"; 197 distinct (package, id) pairs
// (counted with a short script splitting every entry on whitespace).
func TestChainguardSharedSample(t *testing.T) {
	dir := testutil.Shared(t, "data/feeds/chainguard-secdb")
	var log vulndbtest.Log
	sink := &vulndbtest.Sink{}
	if err := NewChainguard(Options{Logger: log.Logger()}).Load(context.Background(), vulndbtest.Dir(dir), sink); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		pkg, id string
		status  vulndb.Status
		fixed   []string
	}{
		{"git", "CVE-2023-22743", vulndb.StatusNotAffected, nil},
		{"git", "CVE-2023-23946", vulndb.StatusFixed, []string{"2.39.2-r0"}},
		{"openssl", "CVE-2022-3996", vulndb.StatusFixed, []string{"3.0.7-r1"}},
	} {
		got := sink.FindAffected("chainguard", tt.pkg, tt.id)
		if len(got) != 1 || got[0].Status != tt.status || !slices.Equal(got[0].Fixed, tt.fixed) || got[0].Source != "chainguard" {
			t.Errorf("%s %s: got %+v", tt.pkg, tt.id, got)
		}
	}
	if n := len(sink.Affected); n != 197 {
		t.Errorf("%d records, want 197", n)
	}
	if w := log.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
}
