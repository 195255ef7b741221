package bounded

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadN(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 500_000) // 5 MB
	for _, n := range []int64{0, 1, 10, step, step + 1, int64(len(data))} {
		got, err := ReadN(iotest.HalfReader(bytes.NewReader(data)), n)
		if err != nil || !bytes.Equal(got, data[:n]) || int64(cap(got)) != n {
			t.Errorf("ReadN(%d) = %d bytes (cap %d), %v", n, len(got), cap(got), err)
		}
	}
	if _, err := ReadN(strings.NewReader("short"), 6); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short stream: err = %v", err)
	}
	if _, err := ReadN(iotest.ErrReader(io.ErrClosedPipe), 6); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("failing stream: err = %v", err)
	}
	if _, err := ReadN(strings.NewReader(""), -1); err == nil {
		t.Error("negative size accepted")
	}
}

// TestReadNDeclaredSize: a declared size alone allocates at most a step.
func TestReadNDeclaredSize(t *testing.T) {
	allocs := testing.AllocsPerRun(5, func() { ReadN(strings.NewReader("x"), 1<<40) })
	if allocs > 2 {
		t.Errorf("%v allocations", allocs)
	}
	var got []byte
	n := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			got, _ = ReadN(strings.NewReader("x"), 1<<40)
		}
	}).AllocedBytesPerOp()
	if n > 2*step {
		t.Errorf("a 1 TiB declaration with 1 byte behind it allocated %d bytes", n)
	}
	_ = got
}

func TestReader(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int64
		want  string
		large bool
	}{
		{"hello", 10, "hello", false},
		{"hello", 5, "hello", false},
		{"hello!", 5, "hello", true},
		{"", 0, "", false},
		{"x", 0, "", true},
	} {
		got, err := io.ReadAll(&Reader{R: iotest.OneByteReader(strings.NewReader(tc.in)), Limit: tc.limit})
		var tl *TooLargeError
		if string(got) != tc.want || errors.As(err, &tl) != tc.large || (!tc.large && err != nil) {
			t.Errorf("Reader(%q, %d) = %q, %v", tc.in, tc.limit, got, err)
		}
	}
}

// TestChunks: ReadChunks holds exactly the stream's bytes, reads them back
// at any offset and length across chunk boundaries, fails on a short
// stream, and allocates no more than a step for a declaration alone.
func TestChunks(t *testing.T) {
	data := make([]byte, 2*step+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, n := range []int{0, 1, step, step + 1, len(data)} {
		c, err := ReadChunks(iotest.HalfReader(bytes.NewReader(data[:n])), int64(n))
		if err != nil || c.Size() != int64(n) || !bytes.Equal(c.Bytes(), data[:n]) {
			t.Fatalf("n %d: err %v, size %d", n, err, c.Size())
		}
		if err := iotest.TestReader(io.NewSectionReader(c, 0, c.Size()), data[:n]); err != nil {
			t.Errorf("n %d: %v", n, err)
		}
		for _, r := range [][2]int{{0, n}, {step - 3, 10}, {n - 5, 10}, {n, 1}} {
			if r[0] < 0 || r[0] > n {
				continue
			}
			p := make([]byte, r[1])
			k, err := c.ReadAt(p, int64(r[0]))
			want := data[r[0]:min(n, r[0]+r[1])]
			if k != len(want) || !bytes.Equal(p[:k], want) || (k < len(p)) != (err == io.EOF) {
				t.Errorf("n %d: ReadAt(%d, %d) = %d, %v", n, r[0], r[1], k, err)
			}
		}
	}
	if _, err := ReadChunks(bytes.NewReader(data[:10]), 11); err != io.ErrUnexpectedEOF {
		t.Errorf("short stream: %v", err)
	}
	if n := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			ReadChunks(strings.NewReader("x"), 1<<40)
		}
	}).AllocedBytesPerOp(); n > 2*step {
		t.Errorf("a 1 TiB declaration with 1 byte behind it allocated %d bytes", n)
	}
}
