package hostile_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// writeArchive writes a docker-save tarball holding config as the image
// config and layers (file name → bytes, in order) as its layers.
func writeArchive(t *testing.T, config []byte, layers [][2]string) string {
	t.Helper()
	var names []string
	for _, l := range layers {
		names = append(names, l[0])
	}
	manifest, err := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"example.com/liar:1"}, "Layers": names}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := append([][2]string{{"manifest.json", string(manifest)}, {"config.json", string(config)}}, layers...)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Mode: 0o644, Size: int64(len(f[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f[1]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLyingArchives: archives whose config or layer names say they hold a
// clean image, scanned after the clean image filled the cache. Every lie
// is an error naming the layer, never the clean image's result.
func TestLyingArchives(t *testing.T) {
	// The clean image has a fixed openssl; the evil one the vulnerable.
	cleanDB := strings.ReplaceAll(apkDB, "3.1.4-r1", "3.1.4-r3")
	cleanTar := lt.Tar(t, lt.Entry{Name: "etc/os-release", Body: osRelease}, lt.Entry{Name: "lib/apk/db/installed", Body: cleanDB})
	evilTar := lt.Tar(t, lt.Entry{Name: "etc/os-release", Body: osRelease}, lt.Entry{Name: "lib/apk/db/installed", Body: apkDB})
	clean, evil := lt.FromTar(t, cleanTar), lt.FromTar(t, evilTar)
	cleanImg := lt.Image(t, []v1.Layer{clean})
	config, err := cleanImg.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cleanDigest, _ := clean.Digest()
	evilDigest, _ := evil.Digest()
	diffID, _ := clean.DiffID()

	tests := []struct {
		name  string
		clean string // the clean archive, scanned first
		liar  string
	}{
		{
			// Same config (so the same image ID), the layer file named
			// by the clean layer's digest: the inventory cache's key.
			name:  "evil layer under the clean layer's digest and diff ID",
			clean: writeArchive(t, config, [][2]string{{cleanDigest.Hex + ".tar.gz", string(clean.Blob)}}),
			liar:  writeArchive(t, config, [][2]string{{cleanDigest.Hex + ".tar.gz", string(evil.Blob)}}),
		},
		{
			name:  "evil layer under its own digest, the clean diff ID",
			clean: writeArchive(t, config, [][2]string{{cleanDigest.Hex + ".tar.gz", string(clean.Blob)}}),
			liar:  writeArchive(t, config, [][2]string{{evilDigest.Hex + ".tar.gz", string(evil.Blob)}}),
		},
		{
			// docker save writes uncompressed layers, whose digest is
			// their diff ID.
			name:  "uncompressed evil layer under the clean diff ID",
			clean: writeArchive(t, config, [][2]string{{"abc/layer.tar", string(cleanTar)}}),
			liar:  writeArchive(t, config, [][2]string{{"abc/layer.tar", string(evilTar)}}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cache := newCache(t)
			for _, backend := range []string{"fs", "memory"} {
				args := []string{"image", "--cache-dir", cache, "--offline", "--quiet", "--format", "json", "--exit-code", "1", "--cache-backend", backend, "--input"}
				code, out, stderr := vigil(t, append(args, tc.clean)...)
				if code != 0 || len(parseReport(t, out).findings()) != 0 {
					t.Fatalf("clean image, %s cache: exit %d\n%s%s", backend, code, out, stderr)
				}
				// Twice: the second scan finds whatever the first stored.
				for range 2 {
					code, out, stderr = vigil(t, append(args, tc.liar)...)
					if code != 2 || !strings.Contains(stderr, "layer 0 ("+diffID.String()+")") || !strings.Contains(stderr, "do not match") {
						t.Errorf("lying image, %s cache: exit %d, want 2 and an error naming layer 0\n%s%s", backend, code, out, stderr)
					}
				}
			}
		})
	}
}

func TestCorruptGzip(t *testing.T) {
	l := lt.NewLayer(t, alpineBase()...)
	diffID, _ := l.DiffID()
	for name, damage := range map[string]func([]byte) []byte{
		"checksum":  func(b []byte) []byte { b[len(b)-6] ^= 0xff; return b },
		"truncated": func(b []byte) []byte { return b[:len(b)-20] },
		"deflate":   func(b []byte) []byte { b[20] ^= 0xff; b[21] ^= 0xff; return b },
	} {
		t.Run(name, func(t *testing.T) {
			bad := &lt.Layer{Blob: damage(slices.Clone(l.Blob)), Diff: diffID}
			img := writeLayers(t, bad)
			code, _, stderr := scan(t, img)
			if code != 2 || !strings.Contains(stderr, "layer 0 ("+diffID.String()+")") {
				t.Errorf("exit %d, want 2 and an error naming layer 0\n%s", code, stderr)
			}
		})
	}
}

// TestLyingRegistryImage: an image pushed to a registry whose config gives
// its layer the diff ID of a clean layer. The registry checks blobs
// against their digests, not configs against layers: the scan must, from
// the cache as without it.
func TestLyingRegistryImage(t *testing.T) {
	addr := regtest.Start(t, regtest.Options{}).Host
	cleanTar := lt.Tar(t, lt.Entry{Name: "etc/os-release", Body: osRelease},
		lt.Entry{Name: "lib/apk/db/installed", Body: strings.ReplaceAll(apkDB, "3.1.4-r1", "3.1.4-r3")})
	clean := lt.FromTar(t, cleanTar)
	evil := lt.NewLayer(t, alpineBase()...)
	diffID, _ := clean.DiffID()
	push := func(ref string, l v1.Layer) {
		t.Helper()
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(r, lt.Image(t, []v1.Layer{l})); err != nil {
			t.Fatal(err)
		}
	}
	push(addr+"/clean:1", clean)
	push(addr+"/liar:1", &lt.Layer{Blob: evil.Blob, Diff: diffID})
	cache := newCache(t)
	args := []string{"image", "--image-src", "remote", "--insecure", "--cache-dir", cache, "--offline", "--quiet", "--format", "json", "--exit-code", "1"}
	if code, out, stderr := vigil(t, append(args, addr+"/clean:1")...); code != 0 || len(parseReport(t, out).findings()) != 0 {
		t.Fatalf("clean image: exit %d\n%s%s", code, out, stderr)
	}
	for range 2 {
		code, out, stderr := vigil(t, append(args, addr+"/liar:1")...)
		if code != 2 || !strings.Contains(stderr, "layer 0 ("+diffID.String()+")") || !strings.Contains(stderr, "do not match the diff ID") {
			t.Errorf("lying image: exit %d, want 2 and an error naming layer 0\n%s%s", code, out, stderr)
		}
	}
}
