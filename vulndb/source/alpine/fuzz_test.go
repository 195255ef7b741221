package alpine

import (
	"log/slog"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

// FuzzLoad serves the input as the release listing and as each release's
// secdb in JSON and YAML.
func FuzzLoad(f *testing.F) {
	vulndbtest.AddFiles(f, "testdata/mirror/index.html", "testdata/mirror/v3.19/main.json",
		"testdata/mirror/edge/main.yaml", "testdata/truncated/v3.19/main.json")
	f.Fuzz(func(t *testing.T, data string) {
		src := New(Options{Logger: slog.New(slog.DiscardHandler), Repos: []string{"main"}})
		vulndbtest.FuzzLoad(t, src, func(rel string) (string, bool) {
			switch rel {
			case "", "index.html":
				return data + `<a href="v3.19/">v3.19/</a><a href="edge/">edge/</a>`, true
			case "v3.19/main.json", "edge/main.yaml":
				return data, true
			}
			return "", false
		})
	})
}
