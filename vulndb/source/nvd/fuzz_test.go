package nvd

import (
	"log/slog"
	"os"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

// FuzzLoad serves the input as the first page of the files layout, the
// second page as recorded.
func FuzzLoad(f *testing.F) {
	vulndbtest.AddFiles(f, "testdata/mirror/page-0.json", "testdata/mirror/page-1.json")
	second, err := os.ReadFile("testdata/mirror/page-1.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data string) {
		src := New(Options{Layout: LayoutFiles, Logger: slog.New(slog.DiscardHandler)})
		vulndbtest.FuzzLoad(t, src, func(rel string) (string, bool) {
			switch rel {
			case "page-0.json":
				return data, true
			case "page-1.json":
				return string(second), true
			}
			return "", false
		})
	})
}
