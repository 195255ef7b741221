// Package diskcache keeps blobs in a directory, one file per key, and
// bounds the directory's size by removing the least recently used files.
//
// Writes go to a temporary file that is renamed into place, so a reader
// never sees a partial blob and concurrent writers of one key (several
// processes scanning the same image) leave one whole copy. A read touches
// the file's modification time, which is what "recently used" means here.
// Several processes may share a directory; no lock is held.
//
// Trimming lists the directory, so it is amortised: a Dir keeps a running
// estimate of the directory's size and lists it only on its first write,
// when the estimate passes the maximum, or after an eighth of the maximum
// was written since the last listing (other processes write too). A trim
// goes down to seven eighths of the maximum, so the next one is as far
// off. A registry crawl that writes thousands of entries lists the
// directory a few times, not once per entry.
package diskcache

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultMaxSize is the size a Dir is kept under when none is given.
const DefaultMaxSize = 1 << 30 // 1 GiB

// tempPrefix starts the names of files being written.
const tempPrefix = ".tmp-"

// staleTemp is the age past which a temporary file is taken to be left by
// a writer that died, and removed.
const staleTemp = time.Hour

// Dir is a cache directory. Its methods are safe for concurrent use.
type Dir struct {
	path string
	max  int64

	mu        sync.Mutex
	known     bool  // size is an estimate from a listing
	size      int64 // estimated bytes in the directory
	sinceScan int64 // bytes written since the last listing
	listings  int   // for tests
}

// New returns the cache in the directory path, created when first written
// to, whose files are kept under maxSize bytes in all (DefaultMaxSize when
// maxSize <= 0).
func New(path string, maxSize int64) *Dir {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	return &Dir{path: path, max: maxSize}
}

// Path returns the directory.
func (d *Dir) Path() string { return d.path }

// Get opens the blob stored under key and marks it as recently used. A
// missing blob is an error satisfying errors.Is(err, fs.ErrNotExist).
func (d *Dir) Get(key string) (io.ReadCloser, error) {
	name, err := d.file(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	_ = os.Chtimes(name, now, now) // only eviction order suffers if this fails
	return f, nil
}

// Put stores under key what write writes, replacing any blob there, then
// removes the least recently used blobs while the directory holds more
// than its maximum size. When write fails, nothing is stored.
func (d *Dir) Put(key string, write func(w io.Writer) error) error {
	name, err := d.file(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.path, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(d.path, tempPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	cw := &countingWriter{w: f}
	bw := bufio.NewWriterSize(cw, 256<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing cache entry %s: %w", name, err)
	}
	d.mu.Lock()
	d.size += cw.n
	d.sinceScan += cw.n
	due := !d.known || d.size > d.max || d.sinceScan > d.max/8
	d.mu.Unlock()
	if !due {
		return nil
	}
	return d.Trim()
}

// Trim lists the directory and removes the least recently used blobs
// while it holds more than its maximum size, down to seven eighths of
// it, and temporary files left by writers that died.
func (d *Dir) Trim() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.listings++
	d.sinceScan = 0
	ents, err := os.ReadDir(d.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	type blob struct {
		name string
		size int64
		used time.Time
	}
	var blobs []blob
	var total int64
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if strings.HasPrefix(e.Name(), tempPrefix) {
			if time.Since(info.ModTime()) > staleTemp {
				os.Remove(filepath.Join(d.path, e.Name()))
			}
			continue
		}
		blobs = append(blobs, blob{e.Name(), info.Size(), info.ModTime()})
		total += info.Size()
	}
	d.known, d.size = true, total
	if total <= d.max {
		return nil
	}
	slices.SortFunc(blobs, func(a, b blob) int { return a.used.Compare(b.used) })
	low := d.max - d.max/8
	for _, b := range blobs {
		if total <= low {
			break
		}
		if err := os.Remove(filepath.Join(d.path, b.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		total -= b.size
		d.size = total
	}
	return nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// file returns the file of key, which must be a short run of lowercase hex
// digits: keys never name paths.
func (d *Dir) file(key string) (string, error) {
	if key == "" || len(key) > 128 || strings.Trim(key, "0123456789abcdef") != "" {
		return "", fmt.Errorf("cache key %q: want lowercase hex", key)
	}
	return filepath.Join(d.path, key), nil
}
