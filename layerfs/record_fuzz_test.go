package layerfs

import (
	"bytes"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"
)

// FuzzDecodeRecord decodes arbitrary layer cache records (given
// uncompressed; the target compresses them): a damaged record is an error,
// never a panic or an allocation its bytes do not back.
func FuzzDecodeRecord(f *testing.F) {
	id := layerID{
		digest: v1.Hash{Algorithm: "sha256", Hex: "0000000000000000000000000000000000000000000000000000000000000001"},
		diffID: v1.Hash{Algorithm: "sha256", Hex: "0000000000000000000000000000000000000000000000000000000000000002"},
	}
	ld := newLayerData("layer 0")
	ld.put("etc/os-release", &entry{kind: kindFile, mode: 0o644, size: 5, data: []byte("ID=x\n")})
	ld.put("bin", &entry{kind: kindSymlink, mode: 0o777, target: "usr/bin"})
	ld.put("big", &entry{kind: kindFile, mode: 0o644, size: 100, data: []byte("cut"), truncated: true})
	ld.put("x", &entry{kind: kindHardlink, target: "lower"})
	ld.whiteouts["gone"] = struct{}{}
	ld.opaque["d"] = struct{}{}
	ld.unkeptDir("d")
	ld.unkeptOther("o")
	ld.warn("p", "a warning")
	ld.finish()
	var rec bytes.Buffer
	if err := encodeLayer(&rec, ld, id); err != nil {
		f.Fatal(err)
	}
	zr, err := zstd.NewReader(&rec)
	if err != nil {
		f.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := decodeLayer(bytes.NewReader(enc.EncodeAll(raw, nil)), "layer 0", id)
		if err != nil {
			return
		}
		// What decodes encodes back to what decodes the same.
		var again bytes.Buffer
		if err := encodeLayer(&again, got, id); err != nil {
			t.Fatal(err)
		}
		if _, err := decodeLayer(&again, "layer 0", id); err != nil {
			t.Fatalf("a decoded record does not decode once encoded again: %v", err)
		}
	})
}
