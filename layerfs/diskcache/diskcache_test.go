package diskcache_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/layerfs/diskcache"
)

func put(t *testing.T, d *diskcache.Dir, key, body string) {
	t.Helper()
	if err := d.Put(key, func(w io.Writer) error { _, err := io.WriteString(w, body); return err }); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, d *diskcache.Dir, key string) (string, error) {
	t.Helper()
	rc, err := d.Get(key)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

func TestPutGet(t *testing.T) {
	d := diskcache.New(filepath.Join(t.TempDir(), "layers"), 0)
	if _, err := get(t, d, "ab"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get before Put: %v, want fs.ErrNotExist", err)
	}
	put(t, d, "ab", "one")
	put(t, d, "ab", "two")
	if got, err := get(t, d, "ab"); err != nil || got != "two" {
		t.Errorf("Get = %q, %v; want the last Put", got, err)
	}
}

func TestFailedPutStoresNothing(t *testing.T) {
	d := diskcache.New(t.TempDir(), 0)
	put(t, d, "ab", "old")
	err := d.Put("ab", func(w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("boom")
	})
	if err == nil {
		t.Fatal("Put succeeded")
	}
	if got, _ := get(t, d, "ab"); got != "old" {
		t.Errorf("Get = %q, want the old blob", got)
	}
	ents, _ := os.ReadDir(d.Path())
	if len(ents) != 1 {
		t.Errorf("directory holds %d files, want 1 (no temporary file left)", len(ents))
	}
}

func TestKeysNamePathsNot(t *testing.T) {
	d := diskcache.New(t.TempDir(), 0)
	for _, key := range []string{"", "../x", "a/b", "AB", strings.Repeat("a", 129), ".tmp-1"} {
		if err := d.Put(key, func(io.Writer) error { return nil }); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
		if _, err := d.Get(key); err == nil {
			t.Errorf("Get(%q) succeeded", key)
		}
	}
}

func TestConcurrentPutsOfOneKey(t *testing.T) {
	d := diskcache.New(t.TempDir(), 0)
	bodies := make([]string, 8)
	for i := range bodies {
		bodies[i] = strings.Repeat(string(rune('a'+i)), 1<<20)
	}
	var wg sync.WaitGroup
	for _, b := range bodies {
		wg.Go(func() {
			if err := d.Put("ab", func(w io.Writer) error {
				// Write in pieces so the writers interleave.
				for i := 0; i < len(b); i += 4096 {
					if _, err := io.WriteString(w, b[i:i+4096]); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if got, err := get(t, d, "ab"); err == nil && !strings.Contains(strings.Join(bodies, "\n"), got) {
				t.Error("a reader saw a mixed or partial blob")
			}
		})
	}
	wg.Wait()
	got, err := get(t, d, "ab")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range bodies {
		found = found || got == b
	}
	if !found {
		t.Errorf("the blob (%d bytes) is none of the ones written", len(got))
	}
}

func TestEviction(t *testing.T) {
	d := diskcache.New(t.TempDir(), 3000)
	body := string(bytes.Repeat([]byte{'x'}, 1000))
	old := time.Now().Add(-time.Hour)
	for i, key := range []string{"01", "02", "03"} {
		put(t, d, key, body)
		// Distinct, increasing use times: "01" is the least recently used.
		at := old.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(filepath.Join(d.Path(), key), at, at); err != nil {
			t.Fatal(err)
		}
	}
	get(t, d, "01") // now the most recently used
	put(t, d, "04", body)
	// Over the limit: the least recently used go, down to 7/8 of it.
	for key, want := range map[string]bool{"01": true, "02": false, "03": false, "04": true} {
		if _, err := os.Stat(filepath.Join(d.Path(), key)); (err == nil) != want {
			t.Errorf("%s kept = %v, want %v", key, err == nil, want)
		}
	}
	var total int64
	ents, _ := os.ReadDir(d.Path())
	for _, e := range ents {
		info, _ := e.Info()
		total += info.Size()
	}
	if total > 3000 {
		t.Errorf("directory holds %d bytes, more than its 3000-byte limit", total)
	}
}

func TestTrimRemovesStaleTemporaryFiles(t *testing.T) {
	d := diskcache.New(t.TempDir(), 0)
	stale := filepath.Join(d.Path(), ".tmp-1")
	fresh := filepath.Join(d.Path(), ".tmp-2")
	for _, f := range []string{stale, fresh} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	if err := d.Trim(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a stale temporary file was kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a temporary file being written was removed")
	}
}

// TestTrimAmortised writes many entries: the directory is listed a few
// times, not once per entry, and still kept under its limit.
func TestTrimAmortised(t *testing.T) {
	const limit = 100 << 10
	d := diskcache.New(t.TempDir(), limit)
	body := strings.Repeat("x", 1000)
	for i := range 2000 {
		put(t, d, fmt.Sprintf("%04x", i), body)
	}
	// 2 MB written through a 100 KB cache: at most two listings per
	// 12.5 KB written (one on reaching the limit, one after an eighth of
	// it was written), not one per write.
	if n := diskcache.Listings(d); n > 2*2000*1000/(limit/8)+2 {
		t.Errorf("%d directory listings for 2000 writes", n)
	}
	var total int64
	ents, _ := os.ReadDir(d.Path())
	for _, e := range ents {
		info, _ := e.Info()
		total += info.Size()
	}
	if total > limit+limit/8 {
		t.Errorf("directory holds %d bytes, limit %d", total, limit)
	}
}
