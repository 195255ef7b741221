// Package layertest builds small container image layers and images in
// memory for tests.
package layertest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Entry is one tar entry. Type defaults to a regular file (a directory
// when Name ends in "/").
type Entry struct {
	Name     string
	Body     string
	Type     byte   // tar.TypeReg, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, …
	Linkname string // for links
	Mode     int64  // default 0o644 (0o755 for directories)
	Size     int64  // header size when different from len(Body) (truncated entries)
}

// Tar returns the tar stream of entries, in order.
func Tar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: e.Type, Linkname: e.Linkname, Mode: e.Mode,
			ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
			if len(e.Name) > 0 && e.Name[len(e.Name)-1] == '/' {
				h.Typeflag = tar.TypeDir
			}
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("writing tar header %s: %v", e.Name, err)
		}
		if _, err := io.WriteString(tw, e.Body); err != nil {
			t.Fatalf("writing tar body %s: %v", e.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Layer is a v1.Layer whose compressed form is given bytes and whose
// uncompressed form is their gunzipped stream (or the bytes themselves when
// not gzip). Broken input is returned as is, so readers see the error.
type Layer struct {
	Blob []byte // compressed (gzip) or plain tar
	// Diff is the uncompressed digest to report; computed when zero.
	Diff v1.Hash
}

// NewLayer returns a gzip-compressed layer holding entries.
func NewLayer(t testing.TB, entries ...Entry) *Layer {
	t.Helper()
	return FromTar(t, Tar(t, entries...))
}

// FromTar returns a gzip-compressed layer of the tar stream tb.
func FromTar(t testing.TB, tb []byte) *Layer {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(tb); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return &Layer{Blob: gz.Bytes(), Diff: hash(tb)}
}

func hash(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

func (l *Layer) isGzip() bool { return len(l.Blob) > 2 && l.Blob[0] == 0x1f && l.Blob[1] == 0x8b }

// Digest returns the digest of the compressed blob.
func (l *Layer) Digest() (v1.Hash, error) { return hash(l.Blob), nil }

// DiffID returns the uncompressed digest.
func (l *Layer) DiffID() (v1.Hash, error) {
	if l.Diff != (v1.Hash{}) {
		return l.Diff, nil
	}
	if !l.isGzip() {
		return hash(l.Blob), nil
	}
	return hash([]byte("unknown " + hash(l.Blob).Hex)), nil
}

// Compressed returns the blob.
func (l *Layer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.Blob)), nil
}

// Uncompressed returns the gunzipped blob.
func (l *Layer) Uncompressed() (io.ReadCloser, error) {
	if !l.isGzip() {
		return io.NopCloser(bytes.NewReader(l.Blob)), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(l.Blob))
	if err != nil {
		return nil, err
	}
	return zr, nil
}

// Size returns the blob's size.
func (l *Layer) Size() (int64, error) { return int64(len(l.Blob)), nil }

// MediaType returns the Docker layer media type.
func (l *Layer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }

// Image returns an image made of layers, base first, each with a history
// entry whose CreatedBy is the matching createdBy element (when given).
func Image(t testing.TB, layers []v1.Layer, createdBy ...string) v1.Image {
	t.Helper()
	img := empty.Image
	for i, l := range layers {
		add := mutate.Addendum{Layer: l, MediaType: types.DockerLayer}
		if i < len(createdBy) {
			add.History = v1.History{CreatedBy: createdBy[i]}
		}
		var err error
		if img, err = mutate.Append(img, add); err != nil {
			t.Fatal(err)
		}
	}
	return img
}
