package amazon

import (
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

// FuzzLoad serves the input once as the AL2 RSS feed (its pages as
// recorded) and once as every advisory page (the feed as recorded).
func FuzzLoad(f *testing.F) {
	const dir = "testdata/mirror/AL2/"
	vulndbtest.AddFiles(f, dir+"alas.rss", dir+"ALAS2-2024-0001.html", dir+"ALAS2-2024-0003.html", dir+"ALAS2-2024-0005.html")
	read := func(rel string) (string, bool) {
		b, err := os.ReadFile("testdata/mirror/" + rel)
		return string(b), err == nil
	}
	f.Fuzz(func(t *testing.T, data string) {
		src := New(Options{Logger: slog.New(slog.DiscardHandler)})
		vulndbtest.FuzzLoad(t, src, func(rel string) (string, bool) {
			if rel == "AL2/alas.rss" {
				return data, true
			}
			return read(rel)
		})
		vulndbtest.FuzzLoad(t, src, func(rel string) (string, bool) {
			if strings.HasSuffix(rel, ".html") {
				return data, true
			}
			return read(rel)
		})
	})
}
