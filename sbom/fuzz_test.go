package sbom

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-scanner/vigil/report"
)

// FuzzRead reads the input as a vigil JSON report, a CycloneDX BOM or an
// SPDX document. What it reads must be an inventory vigil can write and
// read back.
func FuzzRead(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"testdata/*.json", "../report/testdata/*-all.json", "../report/cyclonedx/testdata/*.json", "../report/spdx/testdata/*.json"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, m...)
	}
	if len(seeds) == 0 {
		f.Fatal("no seeds")
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Read(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := report.WriteJSON(&buf, report.FromInventory(inv), report.Options{ListAllPkgs: true}); err != nil {
			t.Fatalf("writing what was read: %v", err)
		}
		if _, err := report.ReadJSON(&buf); err != nil {
			t.Fatalf("reading back what was read: %v", err)
		}
	})
}
