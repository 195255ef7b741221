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
