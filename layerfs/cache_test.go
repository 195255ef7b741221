package layerfs_test

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/vigil-scanner/vigil/layerfs"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// memCache is a layerfs.Cache in memory that counts its use.
type memCache struct {
	mu         sync.Mutex
	m          map[string][]byte
	hits, puts int
}

func newMemCache() *memCache { return &memCache{m: make(map[string][]byte)} }

func (c *memCache) Get(key string) (io.ReadCloser, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[key]
	if !ok {
		return nil, fs.ErrNotExist
	}
	c.hits++
	return io.NopCloser(strings.NewReader(string(b))), nil
}

func (c *memCache) Put(key string, write func(io.Writer) error) error {
	var sb strings.Builder
	if err := write(&sb); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = []byte(sb.String())
	c.puts++
	return nil
}

func (c *memCache) counts() (hits, puts int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.puts
}

// streamCounter is a layer that counts how often it is streamed.
type streamCounter struct {
	v1.Layer
	n *atomic.Int32
}

func (l streamCounter) Uncompressed() (io.ReadCloser, error) {
	l.n.Add(1)
	return l.Layer.Uncompressed()
}

func (l streamCounter) Compressed() (io.ReadCloser, error) {
	l.n.Add(1)
	return l.Layer.Compressed()
}

// cacheImage has something of every kind a layer record holds: kept,
// condensed and oversized files, links, directories, devices, whiteouts,
// an opaque directory, and unkept files hiding kept ones.
func cacheImage(t *testing.T, streams *atomic.Int32) v1.Image {
	t.Helper()
	layers := [][]lt.Entry{
		{
			{Name: "etc/"},
			{Name: "etc/os-release", Body: "ID=debian\n"},
			{Name: "etc/conf", Body: "1"},
			{Name: "etc/big", Body: strings.Repeat("x", 100)},
			{Name: "usr/bin/app", Body: strings.Repeat("go binary ", 20), Mode: 0o755},
			{Name: "usr/bin/app2", Type: tar.TypeLink, Linkname: "usr/bin/app"},
			{Name: "bin", Type: tar.TypeSymlink, Linkname: "usr/bin"},
			{Name: "d/a", Body: "a"},
			{Name: "d/sub/b", Body: "b"},
			{Name: "x/y/z", Body: "z"},
			{Name: "dev/null", Type: tar.TypeChar},
		},
		{
			{Name: "d/"},
			{Name: "d/.wh..wh..opq"},
			{Name: "d/new", Body: "new"},
			{Name: "x/.wh.y"},
			{Name: "etc/os-release", Body: "ID=debian\nVERSION_ID=12\n"},
		},
		{
			{Name: "etc/conf", Body: "unkept!"}, // 7 bytes: not wanted, hides the lower one
			{Name: "../escape", Body: "e"},
			{Name: "lib", Type: tar.TypeSymlink, Linkname: "/usr/lib"},
		},
	}
	var ls []v1.Layer
	for _, es := range layers {
		ls = append(ls, streamCounter{Layer: lt.NewLayer(t, es...), n: streams})
	}
	return lt.Image(t, ls)
}

// cacheOptions are the options of the tests that count streams. They
// trust digests: checking a layer's digest reads its Compressed stream,
// as inflating it does, which streamCounter cannot tell apart.
func cacheOptions(c layerfs.Cache) layerfs.Options {
	return layerfs.Options{
		TrustDigests: true,
		Want:         func(p string, mode fs.FileMode, size int64) bool { return size != 7 },
		Condense: func(p string, mode fs.FileMode, size int64) layerfs.Condenser {
			if p != "usr/bin/app" {
				return nil
			}
			return func(p string, r io.Reader, size int64) ([]byte, error) {
				n, err := io.Copy(io.Discard, r)
				return fmt.Appendf(nil, "condensed %d", n), err
			}
		},
		MaxFileSize: 50,
		Cache:       c,
		CacheKey:    "test 1",
	}
}

// snapshot describes everything a Tree offers.
func snapshot(t *testing.T, tree *layerfs.Tree) string {
	t.Helper()
	var b strings.Builder
	for i := -1; i < tree.Len(); i++ {
		fmt.Fprintf(&b, "after layer %d: %q\n", i, files(t, tree.At(i)))
	}
	fmt.Fprintf(&b, "changed: %v\n", tree.Changed(func(string, fs.FileMode, int64) bool { return true }))
	fmt.Fprintf(&b, "changed etc: %v\n", tree.Changed(func(p string, _ fs.FileMode, _ int64) bool { return strings.HasPrefix(p, "etc/") }))
	for _, w := range tree.Warnings() {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	fmt.Fprintf(&b, "unreadable: %q\n", tree.Unreadable())
	st, err := fs.Stat(tree.FS(), "usr/bin/app2")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "app2: %v %d %v\n", st.Mode(), st.Size(), st.ModTime().Unix())
	return b.String()
}

func readImage(t *testing.T, img v1.Image, opts layerfs.Options) *layerfs.Tree {
	t.Helper()
	tree, err := layerfs.ReadImage(context.Background(), img, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func TestCacheHitEqualsRead(t *testing.T) {
	var streams atomic.Int32
	img := cacheImage(t, &streams)
	uncached := snapshot(t, readImage(t, img, cacheOptions(nil)))
	for _, want := range []string{`"etc/os-release=ID=debian\nVERSION_ID=12\n"`, `"usr/bin/app=condensed 200"`, "d/new=new",
		"warning: layer 0", "more than the 50-byte file limit", "climbs above the root",
		`"dev/null":"character device where a regular file is expected"`} {
		if !strings.Contains(uncached, want) {
			t.Fatalf("the test image does not show %s:\n%s", want, uncached)
		}
	}
	if _, last, _ := strings.Cut(uncached, "after layer 2:"); strings.Contains(strings.SplitN(last, "\n", 2)[0], "etc/conf") {
		t.Fatalf("the unkept etc/conf of layer 2 does not hide layer 0's:\n%s", uncached)
	}

	c := newMemCache()
	streams.Store(0)
	cold := snapshot(t, readImage(t, img, cacheOptions(c)))
	if hits, puts := c.counts(); hits != 0 || puts != 3 || streams.Load() != 3 {
		t.Fatalf("cold read: %d hits, %d puts, %d layers streamed; want 0, 3, 3", hits, puts, streams.Load())
	}
	streams.Store(0)
	warm := snapshot(t, readImage(t, img, cacheOptions(c)))
	if hits, puts := c.counts(); hits != 3 || puts != 3 || streams.Load() != 0 {
		t.Fatalf("warm read: %d hits, %d puts, %d layers streamed; want 3, 3, 0", hits, puts, streams.Load())
	}
	if cold != uncached || warm != uncached {
		t.Errorf("cached reads differ from an uncached one\nuncached:\n%s\ncold:\n%s\nwarm:\n%s", uncached, cold, warm)
	}
}

func TestCacheKeyDecides(t *testing.T) {
	var streams atomic.Int32
	img := cacheImage(t, &streams)
	c := newMemCache()
	readImage(t, img, cacheOptions(c))
	tests := []struct {
		name   string
		change func(*layerfs.Options)
		hits   int
	}{
		{"same options", func(*layerfs.Options) {}, 3},
		{"another cache key", func(o *layerfs.Options) { o.CacheKey = "test 2" }, 0},
		{"another file size limit", func(o *layerfs.Options) { o.MaxFileSize = 51 }, 0},
		{"another layer size limit", func(o *layerfs.Options) { o.MaxLayerSize = 1 << 40 }, 0},
		{"no cache key", func(o *layerfs.Options) { o.CacheKey = "" }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := c.counts()
			opts := cacheOptions(c)
			tt.change(&opts)
			readImage(t, img, opts)
			if hits, _ := c.counts(); hits-before != tt.hits {
				t.Errorf("%d hits, want %d", hits-before, tt.hits)
			}
		})
	}
}

func TestCacheDamagedRecord(t *testing.T) {
	damage := map[string]func([]byte) []byte{
		"truncated":   func(b []byte) []byte { return b[:len(b)/2] },
		"bit flipped": func(b []byte) []byte { b = slices.Clone(b); b[len(b)/2] ^= 0x10; return b },
		"empty":       func([]byte) []byte { return nil },
		"not zstd":    func([]byte) []byte { return []byte("hello") },
		"trailing":    func(b []byte) []byte { return append(slices.Clone(b), b...) },
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			var streams atomic.Int32
			img := cacheImage(t, &streams)
			want := snapshot(t, readImage(t, img, cacheOptions(nil)))
			c := newMemCache()
			readImage(t, img, cacheOptions(c))
			good := maps.Clone(c.m)
			for k, v := range c.m {
				c.m[k] = fn(v)
			}
			streams.Store(0)
			if got := snapshot(t, readImage(t, img, cacheOptions(c))); got != want {
				t.Errorf("read with damaged records:\n%s\nwant:\n%s", got, want)
			}
			if streams.Load() != 3 {
				t.Errorf("%d layers streamed, want all 3", streams.Load())
			}
			if !maps.EqualFunc(c.m, good, slices.Equal) {
				t.Error("damaged records were not replaced")
			}
		})
	}
}

func TestCacheWrongDiffID(t *testing.T) {
	l := lt.NewLayer(t, lt.Entry{Name: "etc/os-release", Body: "ID=debian\n"})
	l.Diff = v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	img := lt.Image(t, []v1.Layer{l})
	c := newMemCache()
	_, err := layerfs.ReadImage(context.Background(), img, cacheOptions(c))
	if err == nil || !strings.Contains(err.Error(), "layer 0 (sha256:abab") || !strings.Contains(err.Error(), "do not match the diff ID") {
		t.Errorf("err = %v, want one naming layer 0 and its diff ID", err)
	}
	if _, puts := c.counts(); puts != 0 {
		t.Errorf("a layer whose contents do not match its diff ID was cached")
	}
}

func TestReadLayersDoesNotCache(t *testing.T) {
	c := newMemCache()
	read(t, cacheOptions(c), []lt.Entry{{Name: "a", Body: "1"}})
	if hits, puts := c.counts(); hits != 0 || puts != 0 {
		t.Errorf("%d hits, %d puts, want none", hits, puts)
	}
}

func TestCacheTruncatedLayerNotStored(t *testing.T) {
	var streams atomic.Int32
	img := cacheImage(t, &streams)
	c := newMemCache()
	opts := cacheOptions(c)
	opts.MaxLayerSize = 4000
	readImage(t, img, opts)
	if _, puts := c.counts(); puts != 1 { // layer 2 is small enough
		t.Errorf("%d puts, want 1 (the layers read in part are not stored)", puts)
	}
}
