package layerfs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scanner/vigil/layerfs"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// typedLayer is a layer with the media type given, whose Uncompressed
// stream is the tar itself: as go-containerregistry's layers built from
// an uncompressed stream, whose Compressed stream would be made by
// compressing it.
type typedLayer struct {
	*lt.Layer
	mt  types.MediaType
	tar []byte
}

func (l typedLayer) MediaType() (types.MediaType, error) { return l.mt, nil }

func (l typedLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.tar)), nil
}

func (l typedLayer) Compressed() (io.ReadCloser, error) {
	if l.Blob == nil {
		panic("Compressed called on a layer stored uncompressed")
	}
	return l.Layer.Compressed()
}

// TestCompressions reads the same layer stored every way a layer can be:
// gzip (one member or several), zstd, a plain tar behind a compressed
// media type, and an uncompressed media type.
func TestCompressions(t *testing.T) {
	tb := lt.Tar(t,
		lt.Entry{Name: "etc/os-release", Body: "ID=test\n"},
		lt.Entry{Name: "big", Body: strings.Repeat("0123456789abcdef", 1<<14)},
	)
	var members bytes.Buffer
	for _, part := range [][]byte{tb[:1000], tb[1000:5000], tb[5000:]} {
		zw := gzip.NewWriter(&members)
		zw.Write(part)
		zw.Close()
	}
	var zs bytes.Buffer
	zw, err := zstd.NewWriter(&zs)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(tb)
	zw.Close()
	tests := []struct {
		name  string
		layer v1.Layer
	}{
		{"gzip", lt.FromTar(t, tb)},
		{"gzip members", &lt.Layer{Blob: members.Bytes()}},
		{"zstd", typedLayer{Layer: &lt.Layer{Blob: zs.Bytes()}, mt: types.OCILayerZStd}},
		{"plain tar, gzip media type", &lt.Layer{Blob: tb}},
		{"uncompressed media type", typedLayer{Layer: &lt.Layer{}, mt: types.OCIUncompressedLayer, tar: tb}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree, err := layerfs.ReadLayers(context.Background(), []v1.Layer{tc.layer}, layerfs.Options{Want: wantAll})
			if err != nil {
				t.Fatal(err)
			}
			got := files(t, tree.FS())
			want := []string{"big=" + strings.Repeat("0123456789abcdef", 1<<14), "etc/os-release=ID=test\n"}
			if !slices.Equal(got, want) {
				t.Errorf("files differ: got %d, want %d", len(got), len(want))
			}
		})
	}
}
