package image_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer compressions the tests build images with.
const (
	gz    = "gzip"
	zst   = "zstd"
	plain = "none"
)

// tarOf returns a tar archive holding files, in name order.
func tarOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// newLayer returns a layer holding files, stored with compression comp.
func newLayer(t testing.TB, comp string, files map[string]string) v1.Layer {
	t.Helper()
	b := tarOf(t, files)
	if comp == plain {
		return static.NewLayer(b, types.OCIUncompressedLayer)
	}
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	opts := []tarball.LayerOption{tarball.WithMediaType(types.OCILayer)}
	if comp == zst {
		opts = []tarball.LayerOption{tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd)}
	}
	l, err := tarball.LayerFromOpener(opener, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// newImage returns a two-layer OCI image for platform ("linux/amd64")
// whose /etc/os-release says id, its layers stored with compression comp.
func newImage(t testing.TB, platform, comp, id string) v1.Image {
	t.Helper()
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		t.Fatal(err)
	}
	base := newLayer(t, comp, map[string]string{"etc/os-release": "ID=base\n", "bin/sh": "#!"})
	top := newLayer(t, comp, map[string]string{"etc/os-release": "ID=" + id + "\n"})
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{CreatedBy: "ADD base"}},
		mutate.Addendum{Layer: top, History: v1.History{CreatedBy: "RUN echo " + id}},
	)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// osRelease returns /etc/os-release as img's layers leave it.
func osRelease(t testing.TB, img v1.Image) string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if hdr.Name == "etc/os-release" {
				b, err := io.ReadAll(tr)
				if err != nil {
					t.Fatal(err)
				}
				got = string(b)
			}
		}
		rc.Close()
	}
	return got
}

// saved is one image of a docker-save archive.
type saved struct {
	tags []string
	img  v1.Image
}

// writeDockerSave writes imgs in the format `docker save` (before Docker 25)
// writes: uncompressed <id>/layer.tar files, <config digest>.json and
// manifest.json. With gzipped, the whole archive is gzip-compressed.
func writeDockerSave(t testing.TB, path string, gzipped bool, imgs ...saved) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w io.Writer = f
	if gzipped {
		zw := gzip.NewWriter(f)
		defer zw.Close()
		w = zw
	}
	tw := tar.NewWriter(w)
	defer tw.Close()
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	type entry struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var manifest []entry
	for _, s := range imgs {
		raw, err := s.img.RawConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		name, err := s.img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		e := entry{Config: name.Hex + ".json", RepoTags: s.tags}
		add(e.Config, raw)
		layers, err := s.img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range layers {
			diffID, err := l.DiffID()
			if err != nil {
				t.Fatal(err)
			}
			rc, err := l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			p := diffID.Hex + "/layer.tar"
			add(p, b)
			e.Layers = append(e.Layers, p)
		}
		manifest = append(manifest, e)
	}
	b, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	add("manifest.json", b)
}

// tarDir packs the directory dir into a tar archive at path, gzip-compressed
// with gzipped.
func tarDir(t testing.TB, dir, path string, gzipped bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w io.Writer = f
	if gzipped {
		zw := gzip.NewWriter(f)
		defer zw.Close()
		w = zw
	}
	tw := tar.NewWriter(w)
	defer tw.Close()
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// extract unpacks the regular files of the tar stream r under dir.
func extract(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
}

func unixDialer(sock string) func(ctx context.Context, _, _ string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}
}
