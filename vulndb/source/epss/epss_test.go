package epss

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func gz(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func load(t *testing.T, opts Options, f vulndb.Fetcher) (*vulndbtest.Sink, *vulndbtest.Log, error) {
	t.Helper()
	var log vulndbtest.Log
	opts.Logger = log.Logger()
	sink := &vulndbtest.Sink{}
	err := New(opts).Load(context.Background(), f, sink)
	return sink, &log, err
}

func TestMalformedRows(t *testing.T) {
	b, err := os.ReadFile("testdata/malformed.csv")
	if err != nil {
		t.Fatal(err)
	}
	sink, log, err := load(t, Options{}, vulndbtest.Files{DefaultFile: gz(t, string(b))})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range sink.Vulnerabilities {
		ids = append(ids, v.ID)
	}
	// The quoted field swallows the rest of the file: CSV cannot recover
	// from an unterminated quote, which csv reports as a parse error.
	if strings.Join(ids, " ") != "CVE-2024-0001" {
		t.Errorf("ids %v", ids)
	}
	want := vulndb.EPSS{Score: 0.5, Percentile: 0.9, Date: "2025-06-01"}
	if *sink.Vulnerabilities[0].EPSS != want {
		t.Errorf("got %+v", sink.Vulnerabilities[0].EPSS)
	}
	w := strings.Join(log.Warnings(), "\n")
	for _, s := range []string{"CVE-2024-0002", "CVE-2024-0003", "NOT-A-CVE", "CVE-2024-0004", "line=4 ", "line=8 "} {
		if !strings.Contains(w, s) {
			t.Errorf("warnings lack %q:\n%s", s, w)
		}
	}
}

func TestCorrupt(t *testing.T) {
	full := gz(t, "#model_version:v1,score_date:2025-01-01T00:00:00+0000\ncve,epss,percentile\nCVE-2024-0001,0.5,0.9\n")
	for name, doc := range map[string]string{
		"truncated gzip": full[:len(full)-10],
		"bad header":     "cve,score\nCVE-2024-0001,0.5\n",
		"empty":          "",
		"no rows":        "cve,epss,percentile\n",
	} {
		_, _, err := load(t, Options{}, vulndbtest.Files{DefaultFile: doc})
		if err == nil || !strings.Contains(err.Error(), DefaultFile) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestSharedSample reads epss_scores-sample.csv (plain CSV, 5 rows; the
// comment line gives score_date 2025-02-20; CVE-1999-0005 has
// 0.91963,0.99214 — read from the file).
func TestSharedSample(t *testing.T) {
	dir := testutil.Shared(t, "data/feeds/epss")
	sink, log, err := load(t, Options{File: "epss_scores-sample.csv"}, vulndbtest.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sink.Vulnerabilities); n != 5 {
		t.Errorf("%d records, want 5", n)
	}
	got := sink.FindVulnerability("CVE-1999-0005")
	want := vulndb.EPSS{Score: 0.91963, Percentile: 0.99214, Date: "2025-02-20"}
	if len(got) != 1 || *got[0].EPSS != want || got[0].Sources[0] != "epss" {
		t.Errorf("CVE-1999-0005: %+v", got)
	}
	if w := log.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
}

func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("#model_version:v1,score_date:2025-01-01T00:00:00+0000\ncve,epss,percentile\n")
	for i := range 300000 {
		sb.WriteString("CVE-2024-")
		sb.WriteString(strings.Repeat("1", 1+i%4))
		sb.WriteString(",0.00042,0.01234\n")
	}
	doc := sb.String()
	for b.Loop() {
		var sink vulndbtest.Sink
		if err := parse(context.Background(), strings.NewReader(doc), "bench", &sink, nil); err != nil {
			b.Fatal(err)
		}
	}
}
