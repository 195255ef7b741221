package wolfi

import (
	"log/slog"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func FuzzLoad(f *testing.F) {
	vulndbtest.AddFiles(f, "testdata/security.json", "testdata/truncated.json")
	f.Fuzz(func(t *testing.T, data string) {
		for _, src := range []*Source{New(Options{Logger: slog.New(slog.DiscardHandler)}), NewChainguard(Options{Logger: slog.New(slog.DiscardHandler)})} {
			vulndbtest.FuzzLoad(t, src, func(rel string) (string, bool) { return data, rel == "security.json" })
		}
	})
}
