package inflate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

func gz(t testing.TB, data []byte, level int) []byte {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// reference decodes with compress/gzip.
func reference(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func decodeAll(b []byte, opts Options, wrap func(io.Reader) io.Reader) ([]byte, error) {
	var r io.Reader = bytes.NewReader(b)
	if wrap != nil {
		r = wrap(r)
	}
	zr, err := NewReader(r, opts)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}

func testInputs() map[string][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	return map[string][]byte{
		"empty":       nil,
		"one byte":    {7},
		"zeros 3MiB":  make([]byte, 3<<20),
		"random 1MiB": randBytes(r, 1<<20),
		"text 5MiB":   textBytes(r, 5<<20),
		"mixed":       append(append(textBytes(r, 1<<20), randBytes(r, 200<<10)...), make([]byte, 100<<10)...),
	}
}

func TestSequentialMatchesGzip(t *testing.T) {
	for name, data := range testInputs() {
		for _, level := range []int{gzip.NoCompression, gzip.HuffmanOnly, gzip.BestSpeed, gzip.DefaultCompression, gzip.BestCompression} {
			c := gz(t, data, level)
			for _, wrap := range []func(io.Reader) io.Reader{nil, iotest.OneByteReader, iotest.HalfReader} {
				if wrap != nil && len(c) > 1<<20 {
					continue
				}
				got, err := decodeAll(c, Options{}, wrap)
				if err != nil {
					t.Fatalf("%s level %d: %v", name, level, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("%s level %d: output differs (%d bytes, want %d)", name, level, len(got), len(data))
				}
			}
		}
	}
}

func TestMembers(t *testing.T) {
	var c, want bytes.Buffer
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 5 {
		part := textBytes(r, i*100<<10)
		want.Write(part)
		c.Write(gz(t, part, i%3+1))
	}
	got, err := decodeAll(c.Bytes(), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("output differs")
	}
}

func TestCorrupt(t *testing.T) {
	data := textBytes(rand.New(rand.NewPCG(7, 8)), 300<<10)
	good := gz(t, data, 6)
	flip := func(i int, mask byte) []byte {
		b := bytes.Clone(good)
		b[i] ^= mask
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"not gzip", []byte("hello, world"), "not a gzip stream"},
		{"empty", nil, "unexpected EOF"},
		{"header only", good[:10], "unexpected EOF"},
		{"truncated", good[:len(good)/2], "unexpected EOF"},
		{"no trailer", good[:len(good)-8], "unexpected EOF"},
		{"short trailer", good[:len(good)-3], "unexpected EOF"},
		{"bad crc", flip(len(good)-8, 1), "checksum mismatch"},
		{"bad size", flip(len(good)-4, 1), "size mismatch"},
		{"trailing garbage", append(bytes.Clone(good), "garbage!!!!!"...), "data after member 1"},
		{"reserved block type", append(bytes.Clone(good[:10]), 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0), "reserved block type"},
		{"stored length", append(bytes.Clone(good[:10]), 0x01, 5, 0, 5, 0), "stored block length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, workers := range []int{1, 2} {
				got, err := decodeAll(tc.in, Options{Workers: workers}, nil)
				if err == nil {
					t.Fatalf("workers %d: no error, %d bytes", workers, len(got))
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("workers %d: err = %v, want %q", workers, err, tc.want)
				}
			}
		})
	}
	// Every bit flip in the deflate data either fails or is caught by the
	// CRC: never silent wrong output.
	r := rand.New(rand.NewPCG(9, 10))
	for range 300 {
		b := flip(10+r.IntN(len(good)-18), 1<<r.IntN(8))
		got, err := decodeAll(b, Options{}, nil)
		if err == nil && !bytes.Equal(got, data) {
			t.Fatal("a bit flip went unnoticed")
		}
		if _, rerr := reference(b); (rerr == nil) != (err == nil) {
			t.Fatalf("err = %v, compress/gzip says %v", err, rerr)
		}
	}
	var ue error = io.ErrUnexpectedEOF
	if _, err := decodeAll(good[:100], Options{}, nil); !errors.Is(err, ue) {
		t.Errorf("truncated: %v is not io.ErrUnexpectedEOF", err)
	}
}

func TestCheckpoints(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	var c, data bytes.Buffer
	for i := range 3 { // members, and stored blocks among them
		part := append(textBytes(r, 700<<10), randBytes(r, 100<<10)...)
		data.Write(part)
		c.Write(gz(t, part, []int{1, 6, 0}[i]))
	}
	var cps []Checkpoint
	for _, opts := range []Options{{}, {Workers: 2, ChunkSize: 32 << 10, eager: true}} {
		var these []Checkpoint
		zr, err := NewIndexingReader(bytes.NewReader(c.Bytes()), 200<<10, func(cp Checkpoint) { these = append(these, cp) }, opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		zr.Close()
		if err != nil || !bytes.Equal(got, data.Bytes()) {
			t.Fatalf("workers %d: indexing read: err %v, equal %v", opts.Workers, err, bytes.Equal(got, data.Bytes()))
		}
		if len(these) < 5 {
			t.Fatalf("workers %d: %d checkpoints", opts.Workers, len(these))
		}
		cps = append(cps, these...)
	}
	for _, cp := range cps {
		zr, err := NewReaderFrom(bytes.NewReader(c.Bytes()[cp.In/8:]), cp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("from %d/%d: %v", cp.In, cp.Out, err)
		}
		if !bytes.Equal(got, data.Bytes()[cp.Out:]) {
			t.Fatalf("from %d/%d: output differs", cp.In, cp.Out)
		}
	}
}
