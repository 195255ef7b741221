package scan_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/inventory"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
	"github.com/vigil-scanner/vigil/scan"
)

var scanDate = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func TestImageAlpine310(t *testing.T) {
	gz, err := os.ReadFile(testutil.Shared(t, "data/images/alpine-310.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.Image(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := scan.Image(context.Background(), img, scan.ImageMeta{Name: "alpine-310.tar.gz"},
		scan.Options{Catalogers: []catalog.Cataloger{}, Now: scanDate})
	if err != nil {
		t.Fatal(err)
	}
	a := inv.Artifact
	if a.OS == nil || a.OS.Family != "alpine" || a.OS.Name != "3.10.4" || !a.OS.EOSL || a.OS.EOSLDate != "2021-05-01" {
		t.Errorf("OS = %+v, want alpine 3.10.4, EOSL since 2021-05-01", a.OS)
	}
	if a.Type != inventory.TypeContainerImage || !strings.HasPrefix(a.ImageID, "sha256:") || a.Platform != "linux/amd64" {
		t.Errorf("artifact = %+v", a)
	}
	if len(a.Layers) != 1 || !strings.HasPrefix(a.Layers[0].DiffID, "sha256:") ||
		!strings.Contains(a.Layers[0].CreatedBy, "ADD file:") {
		t.Errorf("layers = %+v, want one layer made by ADD", a.Layers)
	}
}

func TestImageLayersAndSymlinkedOSRelease(t *testing.T) {
	l0 := lt.NewLayer(t,
		lt.Entry{Name: "usr/lib/os-release", Body: "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"},
		lt.Entry{Name: "etc/os-release", Type: tar.TypeSymlink, Linkname: "../usr/lib/os-release"})
	l1 := lt.NewLayer(t, lt.Entry{Name: "etc/motd", Body: "hi"})
	img := lt.Image(t, []v1.Layer{l0, l1}, "ADD rootfs.tar /", "RUN echo hi > /etc/motd")
	inv, err := scan.Image(context.Background(), img, scan.ImageMeta{Name: "example:1"},
		scan.Options{Catalogers: []catalog.Cataloger{}, Now: scanDate})
	if err != nil {
		t.Fatal(err)
	}
	if o := inv.Artifact.OS; o == nil || o.Family != "debian" || o.Name != "12" || o.EOSL {
		t.Errorf("OS = %+v, want debian 12, supported", o)
	}
	ls := inv.Artifact.Layers
	if len(ls) != 2 {
		t.Fatalf("layers = %+v", ls)
	}
	for i, l := range []*lt.Layer{l0, l1} {
		d, _ := l.Digest()
		diff, _ := l.DiffID()
		if ls[i].Digest != d.String() || ls[i].DiffID != diff.String() || ls[i].Size != int64(len(l.Blob)) {
			t.Errorf("layer %d = %+v, want digest %s diffID %s size %d", i, ls[i], d, diff, len(l.Blob))
		}
	}
	if ls[0].CreatedBy != "ADD rootfs.tar /" || ls[1].CreatedBy != "RUN echo hi > /etc/motd" {
		t.Errorf("CreatedBy = %q, %q", ls[0].CreatedBy, ls[1].CreatedBy)
	}
}

func TestDir(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/alpine-release"), []byte("3.19.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := scan.Dir(context.Background(), root, inventory.TypeRootfs,
		scan.Options{Catalogers: []catalog.Cataloger{}, Now: scanDate})
	if err != nil {
		t.Fatal(err)
	}
	if o := inv.Artifact.OS; o == nil || o.Family != "alpine" || o.Name != "3.19.1" {
		t.Errorf("OS = %+v, want alpine 3.19.1", o)
	}
	if inv.Artifact.Type != inventory.TypeRootfs {
		t.Errorf("type = %q", inv.Artifact.Type)
	}
}
