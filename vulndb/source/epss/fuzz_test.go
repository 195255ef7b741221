package epss

import (
	"log/slog"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

// FuzzLoad reads the input as a plain CSV score file (a gzip-compressed one
// is decompressed first, by the same code).
func FuzzLoad(f *testing.F) {
	vulndbtest.AddFiles(f, "testdata/malformed.csv")
	f.Add("#model_version:v2023.03.01,score_date:2024-03-01T00:00:00+0000\ncve,epss,percentile\nCVE-2024-0001,0.5,0.9\n")
	f.Fuzz(func(t *testing.T, data string) {
		src := New(Options{File: "scores.csv", Logger: slog.New(slog.DiscardHandler)})
		vulndbtest.FuzzLoad(t, src, func(rel string) (string, bool) { return data, rel == "scores.csv" })
	})
}
