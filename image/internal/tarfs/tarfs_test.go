package tarfs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// writeArchive writes a tar with a large file (past the in-memory bound), a
// small one, a symlink and a hard link to them, and an entry that climbs out.
func writeArchive(t *testing.T, gzipped bool) (string, []byte) {
	t.Helper()
	big := bytes.Repeat([]byte("0123456789abcdef"), (maxCached+4096)/16)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []struct {
		hdr  tar.Header
		body []byte
	}{
		{tar.Header{Name: "./dir/big.tar", Typeflag: tar.TypeReg}, big},
		{tar.Header{Name: "small.json", Typeflag: tar.TypeReg}, []byte(`{}`)},
		{tar.Header{Name: "dir/link.tar", Typeflag: tar.TypeSymlink, Linkname: "big.tar"}, nil},
		{tar.Header{Name: "hard.json", Typeflag: tar.TypeLink, Linkname: "small.json"}, nil},
		{tar.Header{Name: "../escape", Typeflag: tar.TypeReg}, []byte("x")},
	} {
		h.hdr.Size, h.hdr.Mode = int64(len(h.body)), 0o644
		if err := tw.WriteHeader(&h.hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(h.body)
	}
	tw.Close()
	data := buf.Bytes()
	if gzipped {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		data = z.Bytes()
	}
	p := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, big
}

func TestFS(t *testing.T) {
	for _, gzipped := range []bool{false, true} {
		p, big := writeArchive(t, gzipped)
		fsys, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer fsys.Close()
		if fsys.Gzipped() != gzipped {
			t.Errorf("Gzipped() = %v, want %v", fsys.Gzipped(), gzipped)
		}
		want := map[string][]byte{"dir/big.tar": big, "dir/link.tar": big, "small.json": []byte(`{}`), "hard.json": []byte(`{}`)}
		var wg sync.WaitGroup
		for name, body := range want {
			for range 2 { // concurrent readers of the same file
				wg.Go(func() {
					got, err := fs.ReadFile(fsys, name)
					if err != nil {
						t.Errorf("gzipped=%v: %s: %v", gzipped, name, err)
					} else if !bytes.Equal(got, body) {
						t.Errorf("gzipped=%v: %s: read %d bytes, want %d", gzipped, name, len(got), len(body))
					}
				})
			}
		}
		wg.Wait()
		for _, name := range []string{"escape", "../escape", "missing"} {
			if _, err := fsys.Open(name); err == nil {
				t.Errorf("gzipped=%v: Open(%q) succeeded", gzipped, name)
			}
		}
		// A short read of a large gzip member must not decompress it.
		f, _ := fsys.Open("dir/big.tar")
		head := make([]byte, 4)
		if _, err := io.ReadFull(f, head); err != nil || string(head) != "0123" {
			t.Errorf("head = %q, %v", head, err)
		}
		if gzipped && f.(*file).rest {
			t.Error("reading the head started a decompression pass")
		}
		f.Close()
	}
}

// TestGzipCheckpoints reads every large file of a gzip archive: each is
// decompressed from a checkpoint near it, not from the archive's start.
func TestGzipCheckpoints(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	bodies := map[string][]byte{}
	for i := range 12 {
		name := fmt.Sprintf("layer%02d.tar", i)
		body := make([]byte, maxCached+i*100_000)
		r := rand.New(rand.NewPCG(uint64(i), 1))
		for j := range body {
			body[j] = byte(r.IntN(16)) // half compressible: blocks of ~30 KiB
		}
		bodies[name] = body
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(body)), Mode: 0o644})
		tw.Write(body)
	}
	tw.Close()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(buf.Bytes())
	zw.Close()
	p := filepath.Join(t.TempDir(), "a.tar.gz")
	if err := os.WriteFile(p, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	const every = 256 << 10
	// One worker: a checkpoint at the first block boundary past every
	// interval. Two: also where each worker's chunk ends.
	for _, workers := range []int{1, 2} {
		fsys, err := open(p, every, workers)
		if err != nil {
			t.Fatal(err)
		}
		defer fsys.Close()
		if len(fsys.checkpoints) < 4 {
			t.Fatalf("workers %d: %d checkpoints for %d bytes", workers, len(fsys.checkpoints), buf.Len())
		}
		for name, body := range bodies {
			got, err := fs.ReadFile(fsys, name)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("workers %d: %s: err %v, equal %v", workers, name, err, bytes.Equal(got, body))
			}
		}
		// From the start, reaching the files would decompress ~6 archives.
		if s := fsys.skipped.Load(); workers == 1 && s > int64(len(bodies))*2*every {
			t.Errorf("decompressed %d bytes only to reach files (archive: %d)", s, buf.Len())
		}
	}
}
