package image_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	ggcrlayout "github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/vigil-scanner/vigil/image"
	"github.com/vigil-scanner/vigil/image/pick"
	"github.com/vigil-scanner/vigil/internal/testutil"
)

// writeLayout writes an OCI layout holding imgs, each tagged with the
// ref.name annotation of the same index in refs, and returns its directory.
func writeLayout(t testing.TB, dir string, refs []string, imgs ...v1.Image) string {
	t.Helper()
	p, err := ggcrlayout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range imgs {
		if err := p.AppendImage(img, ggcrlayout.WithAnnotations(map[string]string{pick.AnnotationRefName: refs[i]})); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeMultiPlatform writes an OCI layout whose index.json points, under
// ref, at an index of one image per platform.
func writeMultiPlatform(t testing.TB, dir, ref string, platforms ...string) string {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		pl, _ := v1.ParsePlatform(p)
		img := newImage(t, p, gz, p)
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: pl}})
	}
	idx := mutate.AppendManifests(empty.Index, adds...)
	lp, err := ggcrlayout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(idx, ggcrlayout.WithAnnotations(map[string]string{pick.AnnotationRefName: ref})); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOpenInput(t *testing.T) {
	amd := newImage(t, "linux/amd64", gz, "amd")
	zimg := newImage(t, "linux/amd64", zst, "zstd")
	uimg := newImage(t, "linux/amd64", plain, "plain")
	arm := newImage(t, "linux/arm64", gz, "arm")

	tests := []struct {
		name     string
		write    func(t *testing.T, dir string) string // returns the input path
		ref      string
		platform string
		want     v1.Image // nil: compare only osRelease
		wantOS   string
		wantTags []string
		wantPlat string
		wantErr  string
	}{{
		name: "docker-save plain",
		write: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.tar")
			writeDockerSave(t, p, false, saved{[]string{"example.com/a:1"}, amd})
			return p
		},
		want: amd, wantOS: "ID=amd\n", wantTags: []string{"example.com/a:1"}, wantPlat: "linux/amd64",
	}, {
		name: "docker-save gzip as a whole",
		write: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.tar.gz")
			writeDockerSave(t, p, true, saved{[]string{"a:1"}, arm})
			return p
		},
		want: arm, wantOS: "ID=arm\n", wantTags: []string{"a:1"}, wantPlat: "linux/arm64",
	}, {
		name: "docker-save with compressed layers (ggcr tarball)",
		write: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.tar")
			tag, _ := name.NewTag("a:zstd")
			if err := tarball.WriteToFile(p, tag, zimg); err != nil {
				t.Fatal(err)
			}
			return p
		},
		want: zimg, wantOS: "ID=zstd\n", wantTags: []string{"a:zstd"},
	}, {
		name: "docker-save unpacked directory",
		write: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.tar")
			writeDockerSave(t, p, false, saved{nil, amd})
			out := filepath.Join(dir, "unpacked")
			untar(t, p, out)
			return out
		},
		want: amd, wantOS: "ID=amd\n",
	}, {
		name: "docker-save several images by tag",
		write: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.tar")
			writeDockerSave(t, p, false, saved{[]string{"a:amd"}, amd}, saved{[]string{"a:zstd"}, zimg})
			return p
		},
		ref: "a:zstd", wantOS: "ID=zstd\n", wantTags: []string{"a:zstd"},
	}, {
		name: "docker-save several images ambiguous",
		write: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.tar")
			writeDockerSave(t, p, false, saved{[]string{"a:amd"}, amd}, saved{[]string{"a:zstd"}, zimg})
			return p
		},
		wantErr: "several images match platform linux/amd64; choose one by reference: a:amd [linux/amd64]; a:zstd [linux/amd64]",
	}, {
		name: "docker-save several images by platform",
		write: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.tar")
			writeDockerSave(t, p, false, saved{[]string{"a:amd"}, amd}, saved{[]string{"a:arm"}, arm})
			return p
		},
		platform: "linux/arm64", wantOS: "ID=arm\n", wantTags: []string{"a:arm"},
	}, {
		name: "docker-save unknown tag",
		write: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.tar")
			writeDockerSave(t, p, false, saved{[]string{"a:amd"}, amd})
			return p
		},
		ref: "a:nope", wantErr: `no matching image for "a:nope"; found: a:amd [linux/amd64]`,
	}, {
		name:  "OCI layout gzip layers",
		write: func(t *testing.T, dir string) string { return writeLayout(t, dir, []string{"1.0"}, amd) },
		want:  amd, wantOS: "ID=amd\n",
	}, {
		name:  "OCI layout zstd layers",
		write: func(t *testing.T, dir string) string { return writeLayout(t, dir, []string{"1.0"}, zimg) },
		want:  zimg, wantOS: "ID=zstd\n",
	}, {
		name:  "OCI layout uncompressed layers",
		write: func(t *testing.T, dir string) string { return writeLayout(t, dir, []string{"1.0"}, uimg) },
		want:  uimg, wantOS: "ID=plain\n",
	}, {
		name: "OCI layout two tags, by tag",
		write: func(t *testing.T, dir string) string {
			return writeLayout(t, dir, []string{"example.com/x:amd", "example.com/x:zstd"}, amd, zimg)
		},
		ref: "example.com/x:zstd", want: zimg, wantOS: "ID=zstd\n", wantTags: []string{"example.com/x:zstd"},
	}, {
		name: "OCI layout by digest",
		write: func(t *testing.T, dir string) string {
			return writeLayout(t, dir, []string{"amd", "zstd"}, amd, zimg)
		},
		ref: digestOf(t, zimg), want: zimg, wantOS: "ID=zstd\n",
	}, {
		name: "OCI archive plain",
		write: func(t *testing.T, dir string) string {
			writeLayout(t, filepath.Join(dir, "l"), []string{"1.0"}, zimg)
			p := filepath.Join(dir, "oci.tar")
			tarDir(t, filepath.Join(dir, "l"), p, false)
			return p
		},
		want: zimg, wantOS: "ID=zstd\n",
	}, {
		name: "OCI archive gzip",
		write: func(t *testing.T, dir string) string {
			writeMultiPlatform(t, filepath.Join(dir, "l"), "multi", "linux/amd64", "linux/arm64", "linux/arm/v7")
			p := filepath.Join(dir, "oci.tar.gz")
			tarDir(t, filepath.Join(dir, "l"), p, true)
			return p
		},
		platform: "linux/arm/v7", wantOS: "ID=linux/arm/v7\n", wantPlat: "linux/arm/v7",
	}, {
		name: "multi-platform index arm64",
		write: func(t *testing.T, dir string) string {
			return writeMultiPlatform(t, dir, "multi", "linux/amd64", "linux/arm64")
		},
		platform: "linux/arm64", wantOS: "ID=linux/arm64\n", wantPlat: "linux/arm64",
	}, {
		name: "multi-platform index amd64",
		write: func(t *testing.T, dir string) string {
			return writeMultiPlatform(t, dir, "multi", "linux/amd64", "linux/arm64")
		},
		ref: "multi", platform: "linux/amd64", wantOS: "ID=linux/amd64\n", wantPlat: "linux/amd64",
	}, {
		name: "multi-platform index missing platform",
		write: func(t *testing.T, dir string) string {
			return writeMultiPlatform(t, dir, "multi", "linux/amd64", "linux/arm64")
		},
		platform: "linux/s390x",
		wantErr:  "no matching image for platform linux/s390x; found: multi [linux/amd64]; multi [linux/arm64]",
	}, {
		name:    "not an image",
		write:   func(t *testing.T, dir string) string { return dir },
		wantErr: "neither a docker-save archive (no manifest.json) nor an OCI layout (no index.json)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.write(t, t.TempDir())
			img, err := image.Open(context.Background(), tt.ref, image.Options{Input: path, Platform: tt.platform})
			if tt.wantErr != "" {
				if err == nil {
					img.Close()
					t.Fatalf("Open succeeded, want error %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("error = %q, want it to name %s and contain %q", err, path, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if got := osRelease(t, img); got != tt.wantOS {
				t.Errorf("os-release = %q, want %q", got, tt.wantOS)
			}
			if img.Name != path {
				t.Errorf("Name = %q, want %q", img.Name, path)
			}
			if !slices.Equal(img.RepoTags, tt.wantTags) {
				t.Errorf("RepoTags = %q, want %q", img.RepoTags, tt.wantTags)
			}
			if tt.wantPlat != "" && img.Platform != tt.wantPlat {
				t.Errorf("Platform = %q, want %q", img.Platform, tt.wantPlat)
			}
			if tt.want != nil {
				sameImage(t, img, tt.want)
			}
		})
	}
}

func digestOf(t testing.TB, img v1.Image) string {
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// sameImage checks that got has want's config and diff IDs, and that every
// layer's digest is that of the blob stored.
func sameImage(t *testing.T, got, want v1.Image) {
	t.Helper()
	gc, err := got.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	wc, _ := want.ConfigName()
	if gc != wc {
		t.Errorf("config digest = %s, want %s", gc, wc)
	}
	gl, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	wl, _ := want.Layers()
	if len(gl) != len(wl) {
		t.Fatalf("%d layers, want %d", len(gl), len(wl))
	}
	for i := range gl {
		gd, err := gl[i].DiffID()
		if err != nil {
			t.Fatal(err)
		}
		wd, _ := wl[i].DiffID()
		if gd != wd {
			t.Errorf("layer %d diff ID = %s, want %s", i, gd, wd)
		}
		digest, err := gl[i].Digest()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := gl[i].Compressed()
		if err != nil {
			t.Fatal(err)
		}
		h, n, err := v1.SHA256(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		size, _ := gl[i].Size()
		if h != digest || n != size {
			t.Errorf("layer %d: stored blob is %s (%d bytes), manifest says %s (%d bytes)", i, h, n, digest, size)
		}
	}
}

func untar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := extract(f, dir); err != nil {
		t.Fatal(err)
	}
}

func TestOpenInputCorrupt(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tar")
	writeDockerSave(t, good, false, saved{[]string{"a:1"}, newImage(t, "linux/amd64", gz, "a")})
	goodGz := filepath.Join(dir, "good.tar.gz")
	writeDockerSave(t, goodGz, true, saved{[]string{"a:1"}, newImage(t, "linux/amd64", gz, "a")})
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	bz, err := os.ReadFile(goodGz)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"truncated tar", b[:len(b)/2], "archive is truncated"},
		{"truncated gzip", bz[:len(bz)/2], "archive is truncated"},
		{"gzip of garbage", append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte{7}, 100)...), "corrupt gzip stream"},
		{"not a tar", bytes.Repeat([]byte("hello "), 200), "corrupt or not a tar archive"},
		{"empty file", nil, "empty tar archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.tar")
			writeFile(t, p, tt.data)
			img, err := image.Open(context.Background(), "", image.Options{Input: p})
			if err == nil {
				// Truncation inside the last layer shows only when it is read.
				_, err = img.Layers()
				img.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error = %v, want one naming %s and saying %q", err, p, tt.wantErr)
			}
		})
	}
}

func TestOpenSharedAlpine(t *testing.T) {
	path := testutil.Shared(t, "data/images/alpine-310.tar.gz")
	img, err := image.Open(context.Background(), "", image.Options{Input: path})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if want := "sha256:af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e"; cfg.String() != want {
		t.Errorf("config digest = %s, want %s", cfg, want)
	}
	if !slices.Equal(img.RepoTags, []string{"alpine:3.10"}) || img.Platform != "linux/amd64" {
		t.Errorf("RepoTags = %q, Platform = %q; want [alpine:3.10], linux/amd64", img.RepoTags, img.Platform)
	}
	diffID, err := layers[0].DiffID()
	if err != nil {
		t.Fatal(err)
	}
	digest, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	if digest != diffID {
		t.Errorf("uncompressed layer digest %s differs from its diff ID %s", digest, diffID)
	}
	got := osRelease(t, img)
	if !strings.Contains(got, "ID=alpine") || !strings.Contains(got, "VERSION_ID=3.10") {
		t.Errorf("os-release = %q", got)
	}
	f, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.History) == 0 {
		t.Error("config has no history")
	}
}
