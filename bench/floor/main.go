// Command floor reads and decompresses every layer of a docker-save image
// archive once and discards the bytes: the least any scanner that reads the
// whole image must spend, so scanners are measured against it.
//
// It shares no code with vigil. Layers of a plain tar archive are read in
// parallel (GOMAXPROCS at a time) from their offsets; an archive compressed
// as a whole (`docker save | gzip`) can only be streamed, so its layers are
// decompressed one after the other as they pass.
//
//	floor IMAGE.tar
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor IMAGE.tar")
		os.Exit(2)
	}
	start := time.Now()
	n, err := readAll(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d uncompressed layer bytes in %v\n", n, time.Since(start).Round(time.Millisecond))
}

func readAll(p string) (int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	if magic == [2]byte{0x1f, 0x8b} {
		return streamGzipped(f)
	}
	return parallel(f)
}

// parallel indexes the archive's entries, then decompresses the layers the
// manifest names concurrently from their offsets.
func parallel(f *os.File) (int64, error) {
	type span struct{ off, size int64 }
	spans := map[string]span{}
	var manifest []byte
	cr := &offsetReader{r: f}
	tr := tar.NewReader(cr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		name := path.Clean(hdr.Name)
		if name == "manifest.json" {
			if manifest, err = io.ReadAll(io.LimitReader(tr, 1<<20)); err != nil {
				return 0, err
			}
			continue
		}
		spans[name] = span{cr.off, hdr.Size}
	}
	layers, err := layerNames(manifest)
	if err != nil {
		return 0, err
	}
	var total atomic.Int64
	g := new(errgroup.Group)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, l := range layers {
		s, ok := spans[l]
		if !ok {
			return 0, fmt.Errorf("layer %s not in archive", l)
		}
		g.Go(func() error {
			n, err := drain(io.NewSectionReader(f, s.off, s.size))
			total.Add(n)
			if err != nil {
				return fmt.Errorf("layer %s: %w", l, err)
			}
			return nil
		})
	}
	err = g.Wait()
	return total.Load(), err
}

// streamGzipped decompresses an archive gzipped as a whole, and every
// entry in it that is itself a compressed or plain tar stream.
func streamGzipped(f *os.File) (int64, error) {
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return 0, err
	}
	tr := tar.NewReader(zr)
	total := int64(0)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size < 1024 {
			continue // manifest, config, repositories
		}
		n, err := drain(tr)
		total += n
		if err != nil {
			return total, fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
}

// drain reads a layer blob (gzip, zstd or plain tar) to its end and
// returns the uncompressed size.
func drain(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(4)
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, err
		}
		return io.Copy(io.Discard, zr)
	case bytes.Equal(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		return io.Copy(io.Discard, zr)
	default:
		return io.Copy(io.Discard, br)
	}
}

func layerNames(manifest []byte) ([]string, error) {
	if manifest == nil {
		return nil, errors.New("no manifest.json: not a docker-save archive")
	}
	var m []struct{ Layers []string }
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	if len(m) == 0 {
		return nil, errors.New("manifest.json lists no image")
	}
	names := make([]string, len(m[0].Layers))
	for i, l := range m[0].Layers {
		names[i] = path.Clean(l)
	}
	return names, nil
}

// offsetReader tracks the offset in a seekable file, so the data of each
// tar entry can be found again; Seek lets tar skip entries without reading.
type offsetReader struct {
	r   io.ReadSeeker
	off int64
}

func (o *offsetReader) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	o.off += int64(n)
	return n, err
}

func (o *offsetReader) Seek(offset int64, whence int) (int64, error) {
	n, err := o.r.Seek(offset, whence)
	if err == nil {
		o.off = n
	}
	return n, err
}
