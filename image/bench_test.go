package image_test

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/vigil-scanner/vigil/image"
)

// BenchmarkReadLayers opens a docker-save archive holding one ~40 MB layer
// of 4,000 text files and reads the layer's tar stream to its end, as the
// layer walk does: with the layer gzip-compressed (as crane and registries
// store it) and uncompressed (as `docker save` writes it).
func BenchmarkReadLayers(b *testing.B) {
	words := strings.Fields("the quick brown fox jumps over a lazy dog while package version license depends on libc6 and zlib1g")
	r := rand.New(rand.NewPCG(1, 2))
	files := map[string]string{}
	for i := range 4000 {
		var sb strings.Builder
		for sb.Len() < 10000 {
			sb.WriteString(words[r.IntN(len(words))])
			sb.WriteByte(' ')
		}
		files[fmt.Sprintf("usr/share/doc/pkg%04d/file", i)] = sb.String()
	}
	dir := b.TempDir()
	gzPath, plainPath := filepath.Join(dir, "gzip.tar"), filepath.Join(dir, "plain.tar")
	img, err := mutate.AppendLayers(empty.Image, newLayer(b, gz, files))
	if err != nil {
		b.Fatal(err)
	}
	if err := tarball.WriteToFile(gzPath, name.MustParseReference("bench:gzip"), img); err != nil {
		b.Fatal(err)
	}
	writeDockerSave(b, plainPath, false, saved{tags: []string{"bench:plain"}, img: img})

	for _, c := range []struct{ name, path string }{{"gzip", gzPath}, {"plain", plainPath}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				n := readLayers(b, c.path)
				b.SetBytes(n)
			}
		})
	}
}

func readLayers(b *testing.B, path string) int64 {
	img, err := image.Open(context.Background(), "", image.Options{Input: path})
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	layers, err := img.Layers()
	if err != nil {
		b.Fatal(err)
	}
	total := int64(0)
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			b.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			if _, err := tr.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, tr)
			if err != nil {
				b.Fatal(err)
			}
			total += n
		}
		rc.Close()
	}
	return total
}
