package nvd

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func load(t *testing.T, opts Options, f vulndb.Fetcher) (*vulndbtest.Sink, *vulndbtest.Log, error) {
	t.Helper()
	var log vulndbtest.Log
	opts.Logger = log.Logger()
	sink := &vulndbtest.Sink{}
	err := New(opts).Load(context.Background(), f, sink)
	return sink, &log, err
}

func checkMirror(t *testing.T, sink *vulndbtest.Sink, log *vulndbtest.Log) {
	t.Helper()
	var ids []string
	for _, v := range sink.Vulnerabilities {
		ids = append(ids, v.ID)
	}
	if !slices.Equal(ids, []string{"CVE-2024-0001", "CVE-2024-0004"}) {
		t.Fatalf("ids %v", ids)
	}
	v := sink.Vulnerabilities[0]
	if v.Description != "A flaw." || !slices.Equal(v.CWEs, []string{"CWE-79"}) ||
		!slices.Equal(v.References, []string{"https://example.com/a", "https://example.com/b"}) ||
		!v.Published.Equal(time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)) || v.Modified.IsZero() {
		t.Errorf("CVE-2024-0001: %+v", v)
	}
	// The Primary v2 rating wins over the Secondary v4.0 one.
	if !slices.Equal(v.Severities, []vulndb.Severity{{Source: "nvd", Severity: "HIGH"}}) {
		t.Errorf("severities %+v", v.Severities)
	}
	wantCVSS := []vulndb.CVSS{
		{Source: "nvd:cna@example.com", Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", Score: 9.3},
		{Source: "nvd", Version: "2.0", Vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P", Score: 7.5},
	}
	if !slices.Equal(v.CVSS, wantCVSS) {
		t.Errorf("cvss %+v", v.CVSS)
	}
	if w := log.Warnings(); len(w) != 1 || !strings.Contains(w[0], "id=CVE-2024-0003") {
		t.Errorf("warnings: %v", w)
	}
}

func TestFilesLayout(t *testing.T) {
	sink, log, err := load(t, Options{}, vulndbtest.Dir("testdata/mirror"))
	if err != nil {
		t.Fatal(err)
	}
	checkMirror(t, sink, log)
}

func TestAPILayout(t *testing.T) {
	files := vulndbtest.Files{}
	for i, q := range []string{"?resultsPerPage=2&startIndex=0", "?resultsPerPage=2&startIndex=2"} {
		b, err := os.ReadFile(filepath.Join("testdata/mirror", "page-"+string(rune('0'+i))+".json"))
		if err != nil {
			t.Fatal(err)
		}
		files[q] = string(b)
	}
	sink, log, err := load(t, Options{ResultsPerPage: 2, PageDelay: -1}, files)
	if err != nil {
		t.Fatal(err)
	}
	checkMirror(t, sink, log)
}

func TestErrors(t *testing.T) {
	b, err := os.ReadFile("testdata/mirror/page-0.json")
	if err != nil {
		t.Fatal(err)
	}
	page0 := string(b)
	for name, files := range map[string]vulndbtest.Files{
		"missing page": {"page-0.json": page0},
		"truncated":    {"page-0.json": page0[:len(page0)/2]},
		"no list":      {"page-0.json": `{"totalResults": 3}`},
	} {
		_, _, err := load(t, Options{Layout: LayoutFiles}, files)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = New(Options{ResultsPerPage: 2}).Load(ctx, vulndbtest.Files{"?resultsPerPage=2&startIndex=0": page0}, &vulndbtest.Sink{})
	if err == nil {
		t.Error("cancelled context: no error")
	}
}

// TestSharedSamples reads real API responses. Expectations were read from
// the files with a short script: CVE-2016-1585 (Analyzed) has a Primary
// v3.1 CRITICAL 9.8 metric from nvd@nist.gov, a Secondary v3.0 metric from
// security@ubuntu.com (CVSS:3.0/AV:L/AC:H/PR:H/UI:N/S:U/C:L/I:L/A:L) and a
// Primary v2 metric, weakness NVD-CWE-noinfo only, 4 references naming 2
// distinct URLs, published
// 2019-04-22T16:29:01.303; CVE-2023-5341 (Undergoing Analysis) has only a
// Secondary v3.1 MEDIUM metric from secalert@redhat.com; CVE-2014-1424 only
// a Primary v2 MEDIUM metric and CWE-264. The full page holds 38 records.
func TestSharedSamples(t *testing.T) {
	dir := testutil.Shared(t, "data/feeds/nvd-api-2.0")
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tt := range []struct {
		file, sev string
		ncvss     int
		cwes      []string
	}{
		{"CVE-2016-1585.json", "CRITICAL", 3, nil},
		{"CVE-2023-5341.json", "MEDIUM", 1, []string{"CWE-416"}},
		{"CVE-2014-1424.json", "MEDIUM", 1, []string{"CWE-264"}},
	} {
		sink, log, err := load(t, Options{}, vulndbtest.Files{"page-0.json": read("single-cve/" + tt.file)})
		if err != nil {
			t.Fatal(err)
		}
		if len(sink.Vulnerabilities) != 1 || len(log.Warnings()) != 0 {
			t.Fatalf("%s: %d records, warnings %v", tt.file, len(sink.Vulnerabilities), log.Warnings())
		}
		v := sink.Vulnerabilities[0]
		if v.ID+".json" != tt.file || v.Severities[0].Severity != tt.sev || len(v.CVSS) != tt.ncvss || !slices.Equal(v.CWEs, tt.cwes) {
			t.Errorf("%s: %+v", tt.file, v)
		}
		if v.ID == "CVE-2016-1585" {
			if !slices.Contains(v.CVSS, vulndb.CVSS{Source: "nvd:security@ubuntu.com", Version: "3.0", Vector: "CVSS:3.0/AV:L/AC:H/PR:H/UI:N/S:U/C:L/I:L/A:L", Score: 3.9}) ||
				len(v.References) != 2 || v.Description != "In all versions of AppArmor mount rules are accidentally widened when compiled." ||
				!v.Published.Equal(time.Date(2019, 4, 22, 16, 29, 1, 303e6, time.UTC)) {
				t.Errorf("CVE-2016-1585: %+v", v)
			}
		}
	}
	sink, log, err := load(t, Options{}, vulndbtest.Files{"page-0.json": read("pages/vunnel-full-page.json")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sink.Vulnerabilities); n != 38 || len(log.Warnings()) != 0 {
		t.Errorf("full page: %d records, warnings %v", n, log.Warnings())
	}
}
