package redhat

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

// FuzzLoad serves the input as every CSAF VEX document the index lists.
func FuzzLoad(f *testing.F) {
	docs, err := filepath.Glob("testdata/mirror/2024/*.json")
	if err != nil || len(docs) == 0 {
		f.Fatalf("no seed documents: %v", err)
	}
	vulndbtest.AddFiles(f, docs...)
	f.Fuzz(func(t *testing.T, data string) {
		src := New(Options{Logger: slog.New(slog.DiscardHandler)})
		vulndbtest.FuzzLoad(t, src, func(rel string) (string, bool) {
			switch rel {
			case "index.txt":
				return "2024/cve-2024-0001.json\n", true
			case "2024/cve-2024-0001.json":
				return data, true
			}
			return "", false
		})
	})
}
