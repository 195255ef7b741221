package inflate

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// FuzzReader checks both decoders against compress/gzip: the same output,
// or an error from all.
func FuzzReader(f *testing.F) {
	for _, level := range []int{0, 1, 6, 9, -2} {
		f.Add(gz(f, textBytes(rand.New(rand.NewPCG(1, uint64(level+3))), 40<<10), level))
	}
	f.Add(append(gz(f, []byte("one"), 6), gz(f, []byte("two"), 1)...))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		want, werr := reference(in)
		for _, opts := range []Options{{}, {Workers: 2, ChunkSize: 1 << 10, eager: true}} {
			got, err := decodeAll(in, opts, nil)
			if (err == nil) != (werr == nil) {
				t.Fatalf("workers %d: err = %v, compress/gzip: %v", opts.Workers, err, werr)
			}
			if err == nil && !bytes.Equal(got, want) {
				t.Fatalf("workers %d: output differs", opts.Workers)
			}
		}
	})
}
