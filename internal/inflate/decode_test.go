package inflate

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"testing"
)

// inflateRaw decodes a whole raw deflate stream held in memory.
func inflateRaw(in []byte) ([]byte, error) {
	d := &decoder{in: in, limit: 1 << 30}
	for {
		final, err := d.block()
		if err != nil {
			return d.out[:d.o], err
		}
		if final {
			return d.out[:d.o], nil
		}
	}
}

func deflate(t testing.TB, data []byte, level int) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestRawRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	inputs := map[string][]byte{
		"empty":  nil,
		"byte":   {42},
		"zeros":  make([]byte, 1<<20),
		"random": randBytes(r, 300<<10),
		"text":   textBytes(r, 1<<20),
	}
	for name, data := range inputs {
		for _, level := range []int{flate.NoCompression, flate.HuffmanOnly, flate.BestSpeed, 5, flate.BestCompression} {
			c := deflate(t, data, level)
			got, err := inflateRaw(c)
			if err != nil {
				t.Fatalf("%s level %d: %v", name, level, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%s level %d: output differs (%d bytes, want %d)", name, level, len(got), len(data))
			}
		}
	}
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// textBytes returns compressible data: words from a small vocabulary.
func textBytes(r *rand.Rand, n int) []byte {
	words := []string{"the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dog ", "package ", "version ", "\n", "{\"name\": ", "1.2.3", "/usr/lib/"}
	var b bytes.Buffer
	for b.Len() < n {
		if r.IntN(50) == 0 {
			b.WriteByte(byte(r.Uint32()))
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.Bytes()[:n]
}
