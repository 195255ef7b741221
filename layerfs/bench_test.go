package layerfs_test

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/vigil-scanner/vigil/layerfs"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// BenchmarkWalk reads a layer of ~20k files (~60 MB) of which a few
// hundred are wanted, as a package-database walk would.
func BenchmarkWalk(b *testing.B) {
	const files = 20000
	body := strings.Repeat("x", 3000)
	es := make([]lt.Entry, 0, files)
	for i := range files {
		name := fmt.Sprintf("usr/lib/pkg%03d/file%05d.so", i%500, i)
		if i%50 == 0 {
			name = fmt.Sprintf("usr/lib/python3/site-packages/p%05d/METADATA", i)
		}
		es = append(es, lt.Entry{Name: name, Body: body})
	}
	for _, c := range []struct {
		name  string
		layer *lt.Layer
	}{
		{"tar", &lt.Layer{Blob: lt.Tar(b, es...), Diff: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}}},
		{"gzip", lt.NewLayer(b, es...)},
	} {
		b.Run(c.name, func(b *testing.B) {
			raw, _ := c.layer.Uncompressed()
			n := int64(0)
			buf := make([]byte, 1<<20)
			for {
				k, err := raw.Read(buf)
				n += int64(k)
				if err != nil {
					break
				}
			}
			b.SetBytes(n)
			want := func(p string, _ fs.FileMode, _ int64) bool { return strings.HasSuffix(p, "/METADATA") }
			b.ResetTimer()
			for b.Loop() {
				tree, err := layerfs.ReadLayers(context.Background(), []v1.Layer{c.layer}, layerfs.Options{Want: want})
				if err != nil {
					b.Fatal(err)
				}
				_ = tree.FS()
			}
			b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}

// BenchmarkViewWalk walks the merged filesystem of 20k kept files (npm
// packages' package.json) and reads each, as a cataloger does.
func BenchmarkViewWalk(b *testing.B) {
	var es []lt.Entry
	for i := range 20000 {
		es = append(es, lt.Entry{Name: fmt.Sprintf("app/node_modules/p%03d/node_modules/q%05d/package.json", i%500, i), Body: "{}"})
	}
	tree, err := layerfs.ReadLayers(context.Background(), []v1.Layer{lt.NewLayer(b, es...)},
		layerfs.Options{Want: func(string, fs.FileMode, int64) bool { return true }})
	if err != nil {
		b.Fatal(err)
	}
	fsys := tree.FS()
	for b.Loop() {
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				_, err = fs.ReadFile(fsys, p)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
