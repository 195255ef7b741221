package azurelinux

import (
	"log/slog"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func FuzzLoad(f *testing.F) {
	vulndbtest.AddFiles(f, "testdata/mirror/cbl-mariner-2.0-oval.xml")
	f.Fuzz(func(t *testing.T, data string) {
		src := NewMariner(Options{Logger: slog.New(slog.DiscardHandler)})
		vulndbtest.FuzzLoad(t, src, func(rel string) (string, bool) { return data, rel == "cbl-mariner-2.0-oval.xml" })
	})
}
