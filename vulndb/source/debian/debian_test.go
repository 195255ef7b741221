package debian

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

type want struct {
	eco, pkg, id string
	status       vulndb.Status
	fixed        string
	severity     string
}

func check(t *testing.T, sink *vulndbtest.Sink, tests []want) {
	t.Helper()
	for _, tt := range tests {
		got := sink.FindAffected(tt.eco, tt.pkg, tt.id)
		if len(got) != 1 {
			t.Errorf("%+v: %d records", tt, len(got))
			continue
		}
		a := got[0]
		var fixed []string
		if tt.fixed != "" {
			fixed = []string{tt.fixed}
		}
		if a.Status != tt.status || !slices.Equal(a.Fixed, fixed) || a.Severity != tt.severity || a.Source != "debian" {
			t.Errorf("%+v: got %+v", tt, a)
		}
		switch tt.status {
		case vulndb.StatusFixed:
			if len(a.Ranges) != 1 || a.Ranges[0].Scheme != vulndb.SchemeDeb || a.Ranges[0].Events[1].Fixed != tt.fixed {
				t.Errorf("%+v: ranges %+v", tt, a.Ranges)
			}
		case vulndb.StatusNotAffected:
			if len(a.Ranges) != 0 {
				t.Errorf("%+v: ranges %+v", tt, a.Ranges)
			}
		default:
			if len(a.Ranges) != 1 || len(a.Ranges[0].Events) != 1 || a.Ranges[0].Events[0].Introduced != "0" {
				t.Errorf("%+v: ranges %+v", tt, a.Ranges)
			}
		}
	}
}

func TestLoad(t *testing.T) {
	sink, log, err := load(t, vulndbtest.Dir("testdata"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, sink, []want{
		{"debian:12", "openssl", "CVE-2024-0001", vulndb.StatusWillNotFix, "", "LOW"},
		{"debian:11", "openssl", "CVE-2024-0001", vulndb.StatusAffected, "", "LOW"},
		{"debian:sid", "openssl", "CVE-2024-0001", vulndb.StatusFixed, "3.1.1-1", "MEDIUM"},
		// end-of-life is no severity: sid's urgency (medium**) is taken.
		{"debian:10", "openssl", "CVE-2024-0001", vulndb.StatusEndOfLife, "", "MEDIUM"},
		// … or another release's when sid has none.
		{"debian:11", "zlib", "CVE-2024-0005", vulndb.StatusEndOfLife, "", "HIGH"},
		{"debian:10", "zlib", "CVE-2024-0006", vulndb.StatusEndOfLife, "", "UNKNOWN"},
		{"debian:12", "openssl", "TEMP-0000000-ABCDEF", vulndb.StatusAffected, "", "LOW"},
		{"debian:12", "zlib", "CVE-2024-0004", vulndb.StatusNotAffected, "", "LOW"},
	})
	// trixie's entry for CVE-2024-0001 is undetermined: no record.
	if n := len(sink.Affected); n != 11 {
		t.Errorf("%d records, want 11", n)
	}
	if got := sink.FindAffected("debian:13", "openssl", "CVE-2024-0001"); len(got) != 0 {
		t.Errorf("undetermined entry recorded: %+v", got)
	}
	if v := sink.FindVulnerability("CVE-2024-0001"); len(v) != 1 || v[0].Description != "Ignored issue." {
		t.Errorf("vulnerability: %+v", v)
	}
	w := strings.Join(log.Warnings(), "\n")
	if len(log.Warnings()) != 2 || !strings.Contains(w, "id=CVE-2024-0003") || !strings.Contains(w, "release=stretch") {
		t.Errorf("warnings:\n%s", w)
	}
	if !strings.Contains(log.String(), "experimental") {
		t.Error("the skipped codename is not logged")
	}
}

func TestCorrupt(t *testing.T) {
	b, err := os.ReadFile("testdata/json")
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{
		"truncated":  string(b[:len(b)/2]),
		"not object": `["openssl"]`,
		"empty":      ``,
	} {
		_, _, err := load(t, vulndbtest.Files{File: doc})
		if err == nil || !strings.Contains(err.Error(), "debian: json") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestSharedSamples reads two real excerpts of the tracker document.
// Expectations were read from the files (and counted with a short script:
// 25 release entries in the vunnel fixture, one issue with "releases": []):
// prototypejs CVE-2008-7220 is resolved in jessie at 1.6.0.2-1 with urgency
// "high**"; CVE-2007-2383 is resolved at "0" (unimportant); chromium
// CVE-2022-0456 is open in buster with urgency end-of-life; sope
// CVE-2025-53603 is fixed in bookworm at 5.8.0-1+deb12u1 (not yet
// assigned); apparmor CVE-2014-1424 is resolved at "0" in trixie.
func TestSharedSamples(t *testing.T) {
	dir := testutil.Shared(t, "data/feeds/debian/security-tracker-json")
	read := func(name string) string {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sink, log, err := load(t, vulndbtest.Files{File: read("vunnel-fixture-debian.json")})
	if err != nil {
		t.Fatal(err)
	}
	if w := log.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
	if n := len(sink.Affected); n != 25 {
		t.Errorf("%d records, want 25", n)
	}
	check(t, sink, []want{
		{"debian:8", "prototypejs", "CVE-2008-7220", vulndb.StatusFixed, "1.6.0.2-1", "HIGH"},
		{"debian:9", "prototypejs", "CVE-2007-2383", vulndb.StatusNotAffected, "", "LOW"},
		{"debian:10", "chromium", "CVE-2022-0456", vulndb.StatusEndOfLife, "", "UNKNOWN"},
		{"debian:12", "sope", "CVE-2025-53603", vulndb.StatusFixed, "5.8.0-1+deb12u1", "UNKNOWN"},
	})

	sink, _, err = load(t, vulndbtest.Files{File: read("osvdev-fixture-apparmor.json")})
	if err != nil {
		t.Fatal(err)
	}
	check(t, sink, []want{
		{"debian:13", "apparmor", "CVE-2014-1424", vulndb.StatusNotAffected, "", "LOW"},
	})
}

// TestEntryWithoutKey: an entry whose package name or id is empty (or
// holds a NUL) is skipped with a warning; the others load.
func TestEntryWithoutKey(t *testing.T) {
	doc := `{"": {"CVE-2024-0001": {"releases": {"sid": {"status": "open"}}}},
		"openssl": {"": {"releases": {"sid": {"status": "open"}}}, "CVE-2024-0002": {"releases": {"sid": {"status": "open"}}}},
		"zlib\u0000": {"CVE-2024-0003": {"releases": {"sid": {"status": "open"}}}}}`
	sink, log, err := load(t, vulndbtest.Files{File: doc})
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.Affected) != 1 || sink.Affected[0].Package != "openssl" || sink.Affected[0].VulnID != "CVE-2024-0002" {
		t.Errorf("records = %+v, want openssl CVE-2024-0002 only", sink.Affected)
	}
	if w := log.Warnings(); len(w) != 3 {
		t.Errorf("warnings = %q, want 3", w)
	}
}
