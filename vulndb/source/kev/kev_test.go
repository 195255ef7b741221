package kev

import (
	"context"
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

func TestLoad(t *testing.T) {
	sink, log, err := load(t, vulndbtest.Dir("testdata"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sink.Vulnerabilities); n != 2 {
		t.Fatalf("%d records, want 2", n)
	}
	v := sink.Vulnerabilities[0]
	want := vulndb.KEV{DateAdded: "2021-12-10", DueDate: "2021-12-24", RequiredAction: "Apply updates.", KnownRansomwareCampaignUse: "Known"}
	if v.ID != "CVE-2021-44228" || v.KEV == nil || *v.KEV != want || !slices.Equal(v.CWEs, []string{"CWE-20"}) {
		t.Errorf("got %+v", v)
	}
	w := strings.Join(log.Warnings(), "\n")
	if len(log.Warnings()) != 2 || !strings.Contains(w, "index=1") || !strings.Contains(w, "cve=CVE-2020-0001") {
		t.Errorf("warnings:\n%s", w)
	}
}

func TestCorrupt(t *testing.T) {
	for name, doc := range map[string]string{
		"truncated": `{"vulnerabilities": [{"cveID": "CVE-2021-44228", "dateAdded": "2021-12-10"}, {"cveID"`,
		"no list":   `{"title": "x"}`,
		"not json":  `<html>`,
	} {
		_, _, err := load(t, vulndbtest.Files{File: doc})
		if err == nil || !strings.Contains(err.Error(), File) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestSharedSample reads the complete catalog (catalogVersion 2025.08.25,
// "count": 1404). Its first entry, read from the file, is CVE-2025-48384
// (Git), added 2025-08-25, due 2025-09-15, ransomware use "Unknown".
func TestSharedSample(t *testing.T) {
	dir := testutil.Shared(t, "data/feeds/cisa-kev")
	sink, log, err := load(t, vulndbtest.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sink.Vulnerabilities); n != 1404 {
		t.Errorf("%d records, want 1404", n)
	}
	got := sink.FindVulnerability("CVE-2025-48384")
	if len(got) != 1 || got[0].KEV.DateAdded != "2025-08-25" || got[0].KEV.DueDate != "2025-09-15" ||
		got[0].KEV.KnownRansomwareCampaignUse != "Unknown" || !strings.HasPrefix(got[0].KEV.RequiredAction, "Apply mitigations") {
		t.Errorf("CVE-2025-48384: %+v", got)
	}
	if w := log.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
}
