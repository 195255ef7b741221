package java

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
)

// FuzzArchive reads arbitrary bytes as a jar: zip structure, manifests,
// pom.properties and nested archives.
func FuzzArchive(f *testing.F) {
	for _, file := range testFS(f) {
		f.Add(file.Data)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fsys := fstest.MapFS{"opt/app/lib/x-1.0.jar": {Data: in, Mode: 0o644}}
		results, err := NewWithLimits(Limits{MaxArchive: 1 << 20, MaxDepth: 3, MaxNested: 1 << 20, MaxTotal: 4 << 20, MaxEntries: 1000, MaxMeta: 1 << 16}).
			Catalog(context.Background(), fsys, catalog.Env{})
		if err != nil {
			t.Fatalf("Catalog: %v (a bad archive is a warning)", err)
		}
		for _, r := range results {
			for _, p := range r.Packages {
				if p.Name == "" || p.Version == "" {
					t.Fatalf("package without a name or a version: %+v", p)
				}
			}
		}
	})
}
