package inflate

import (
	"bytes"
	"flag"
	"io"
	"os"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

var gzFile = flag.String("gzfile", "", "a gzip file to benchmark on (default: generated data)")

func benchInput(b *testing.B) []byte {
	if *gzFile != "" {
		data, err := os.ReadFile(*gzFile)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	return nil
}

// rawOf returns the deflate stream of a single-member gzip file.
func rawOf(b *testing.B, gz []byte) []byte {
	n, err := gzipHeaderLen(gz)
	if err != nil {
		b.Fatal(err)
	}
	return gz[n : len(gz)-8]
}

func BenchmarkDecodeRaw(b *testing.B) {
	gz := benchInput(b)
	if gz == nil {
		b.Skip("no -gzfile")
	}
	raw := rawOf(b, gz)
	out, err := inflateRaw(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ResetTimer()
	for b.Loop() {
		inflateRaw(raw)
	}
}

func BenchmarkKlauspost(b *testing.B) {
	gz := benchInput(b)
	if gz == nil {
		b.Skip("no -gzfile")
	}
	zr, _ := kgzip.NewReader(bytes.NewReader(gz))
	n, _ := io.Copy(io.Discard, zr)
	b.SetBytes(n)
	b.ResetTimer()
	for b.Loop() {
		zr, _ := kgzip.NewReader(bytes.NewReader(gz))
		io.Copy(io.Discard, zr)
	}
}

func benchReader(b *testing.B, workers int) {
	gz := benchInput(b)
	if gz == nil {
		b.Skip("no -gzfile")
	}
	var n int64
	b.ResetTimer()
	for b.Loop() {
		zr, err := NewReader(bytes.NewReader(gz), Options{Workers: workers})
		if err != nil {
			b.Fatal(err)
		}
		n, err = io.Copy(io.Discard, zr)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n)
}

func BenchmarkReader1(b *testing.B) { benchReader(b, 1) }
func BenchmarkReader2(b *testing.B) { benchReader(b, 2) }
