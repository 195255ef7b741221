package osv

import (
	"archive/zip"
	"bytes"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

// FuzzLoad serves the input as the one record of an ecosystem's all.zip,
// for each ecosystem family the converter treats apart.
func FuzzLoad(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.json")
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed records: %v", err)
	}
	vulndbtest.AddFiles(f, seeds...)
	f.Fuzz(func(t *testing.T, data string) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.Create("REC-1.json")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		for _, eco := range []string{"PyPI", "Go", "npm", "Maven", "Ubuntu", "AlmaLinux", "SUSE"} {
			src := New(eco, slog.New(slog.DiscardHandler))
			vulndbtest.FuzzLoad(t, src, func(rel string) (string, bool) { return buf.String(), rel == eco+"/all.zip" })
		}
	})
}
