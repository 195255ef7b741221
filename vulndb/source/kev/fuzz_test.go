package kev

import (
	"log/slog"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func FuzzLoad(f *testing.F) {
	vulndbtest.AddFiles(f, "testdata/"+File)
	f.Fuzz(func(t *testing.T, data string) {
		vulndbtest.FuzzLoad(t, New(Options{Logger: slog.New(slog.DiscardHandler)}), func(rel string) (string, bool) { return data, rel == File })
	})
}
