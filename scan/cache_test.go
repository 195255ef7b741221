package scan_test

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/layerfs"
	"github.com/vigil-scanner/vigil/layerfs/diskcache"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
	"github.com/vigil-scanner/vigil/scan"
)

const dpkgStatus = `Package: base-files
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u5

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1
`

const distrolessStatus = `Package: netbase
Status: install ok installed
Architecture: all
Version: 6.4
`

// streamed counts the layers of an image that are read from their stream:
// layerfs inflates a layer from its Compressed stream (or reads its
// Uncompressed one when it is stored uncompressed). The tests that count
// streams scan images whose digests the source verified (DigestsVerified):
// checking a layer's digest reads its Compressed stream too, which this
// counter cannot tell apart.
type streamed struct {
	v1.Layer
	n *atomic.Int32
}

func (l streamed) Uncompressed() (io.ReadCloser, error) {
	l.n.Add(1)
	return l.Layer.Uncompressed()
}

func (l streamed) Compressed() (io.ReadCloser, error) {
	l.n.Add(1)
	return l.Layer.Compressed()
}

// cachedImage is a Debian-like image with a symlinked os-release, a dpkg
// database and a status.d entry, a Go binary (condensed when read) and
// whiteouts.
func cachedImage(t *testing.T, n *atomic.Int32) v1.Image {
	t.Helper()
	exe, err := os.Executable() // the test binary: a Go binary
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	layers := [][]lt.Entry{
		{
			{Name: "usr/lib/os-release", Body: "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"},
			{Name: "etc/os-release", Type: tar.TypeSymlink, Linkname: "../usr/lib/os-release"},
			{Name: "var/lib/dpkg/status", Body: dpkgStatus},
			{Name: "usr/share/zoneinfo/UTC", Body: "TZif"},
			{Name: "opt/app/node_modules/left-pad/package.json", Body: `{"name":"left-pad","version":"1.3.0"}`},
		},
		{
			{Name: "var/lib/dpkg/status.d/netbase", Body: distrolessStatus},
			{Name: "usr/local/bin/tool", Body: string(bin), Mode: 0o755},
		},
		{
			{Name: "opt/app/.wh.node_modules"},
			{Name: "usr/share/.wh.zoneinfo"},
		},
	}
	var ls []v1.Layer
	for _, es := range layers {
		ls = append(ls, streamed{Layer: lt.NewLayer(t, es...), n: n})
	}
	return lt.Image(t, ls, "ADD rootfs /", "COPY tool /usr/local/bin/", "RUN rm -rf /opt/app/node_modules")
}

func scanJSON(t *testing.T, img v1.Image, cache layerfs.Cache) string {
	t.Helper()
	inv, err := scan.Image(context.Background(), img, scan.ImageMeta{Name: "cached:1", DigestsVerified: true},
		scan.Options{Now: scanDate, Read: layerfs.Options{Cache: cache}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(inv, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestImageFromLayerCache(t *testing.T) {
	var streams atomic.Int32
	img := cachedImage(t, &streams)
	uncached := scanJSON(t, img, nil)
	var inv inventory.Inventory
	if err := json.Unmarshal([]byte(uncached), &inv); err != nil {
		t.Fatal(err)
	}
	if o := inv.Artifact.OS; o == nil || o.Family != "debian" {
		t.Fatalf("OS = %+v, want debian", o)
	}
	for _, want := range []string{`"base-files"`, `"netbase"`, `"stdlib"`, `"usr/local/bin/tool"`} {
		if !strings.Contains(uncached, want) {
			t.Fatalf("inventory lacks %s:\n%s", want, uncached)
		}
	}
	if strings.Contains(uncached, "left-pad") {
		t.Fatalf("a whited-out package is reported:\n%s", uncached)
	}

	cache := diskcache.New(t.TempDir(), 0)
	streams.Store(0)
	cold := scanJSON(t, img, cache)
	if streams.Load() != 3 {
		t.Errorf("cold scan streamed %d layers, want 3", streams.Load())
	}
	streams.Store(0)
	warm := scanJSON(t, img, cache)
	if streams.Load() != 0 {
		t.Errorf("warm scan streamed %d layers, want 0", streams.Load())
	}
	if cold != uncached || warm != uncached {
		t.Errorf("scans with the layer cache differ from one without\nwithout:\n%s\ncold:\n%s\nwarm:\n%s", uncached, cold, warm)
	}
}

func TestLayerCacheKey(t *testing.T) {
	var streams atomic.Int32
	img := cachedImage(t, &streams)
	cache := diskcache.New(t.TempDir(), 0)
	scanJSON(t, img, cache)
	tests := []struct {
		name    string
		opts    scan.Options
		streams int32
	}{
		{"default catalogers", scan.Options{Read: layerfs.Options{Cache: cache}}, 0},
		{"another cache key", scan.Options{Read: layerfs.Options{Cache: cache, CacheKey: "other"}}, 3},
		// Catalogers of the caller's: no key is known, nothing cached.
		{"other catalogers", scan.Options{Catalogers: []catalog.Cataloger{}, Read: layerfs.Options{Cache: cache}}, 3},
		{"other catalogers again", scan.Options{Catalogers: []catalog.Cataloger{}, Read: layerfs.Options{Cache: cache}}, 3},
	}
	for _, tt := range tests {
		streams.Store(0)
		tt.opts.Now = scanDate
		if _, err := scan.Image(context.Background(), img, scan.ImageMeta{Name: "x", DigestsVerified: true}, tt.opts); err != nil {
			t.Fatal(err)
		}
		if streams.Load() != tt.streams {
			t.Errorf("%s: %d layers streamed, want %d", tt.name, streams.Load(), tt.streams)
		}
	}
}

func TestConcurrentScansShareTheCache(t *testing.T) {
	var streams atomic.Int32
	img := cachedImage(t, &streams)
	want := scanJSON(t, img, nil)
	dir := t.TempDir()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			// Each scan its own Dir, as separate processes would have.
			if got := scanJSON(t, img, diskcache.New(dir, 0)); got != want {
				t.Error("a concurrent scan's inventory differs")
			}
		})
	}
	wg.Wait()
	streams.Store(0)
	if got := scanJSON(t, img, diskcache.New(dir, 0)); got != want || streams.Load() != 0 {
		t.Errorf("after concurrent scans: %d layers streamed, inventory equal: %v", streams.Load(), got == want)
	}
}

// countingCache counts the records read from a cache.
type countingCache struct {
	layerfs.Cache
	gets atomic.Int32
}

func (c *countingCache) Get(key string) (io.ReadCloser, error) {
	c.gets.Add(1)
	return c.Cache.Get(key)
}

// TestInventoryCache: a second scan of an image takes the whole inventory
// from one cache entry (no layer read, no layer record loaded), named as
// this scan names the image, with end of support judged at this scan's
// date and the Go binary's symbol table kept for reachability.
func TestInventoryCache(t *testing.T) {
	var streams atomic.Int32
	img := cachedImage(t, &streams)
	cache := &countingCache{Cache: diskcache.New(t.TempDir(), 0)}
	ctx := context.Background()
	cold, err := scan.Image(ctx, img, scan.ImageMeta{Name: "first:1", DigestsVerified: true}, scan.Options{Now: scanDate, Read: layerfs.Options{Cache: cache}})
	if err != nil {
		t.Fatal(err)
	}
	streams.Store(0)
	cache.gets.Store(0)
	later := scanDate.AddDate(10, 0, 0) // Debian 12 is out of support by then
	warm, err := scan.Image(ctx, img, scan.ImageMeta{Name: "second:2", RepoTags: []string{"second:2"}, DigestsVerified: true}, scan.Options{Now: later, Read: layerfs.Options{Cache: cache}})
	if err != nil {
		t.Fatal(err)
	}
	if streams.Load() != 0 || cache.gets.Load() != 1 {
		t.Errorf("warm scan streamed %d layers and read %d cache entries, want 0 and 1", streams.Load(), cache.gets.Load())
	}
	if warm.Artifact.Name != "second:2" || warm.Results[0].Target != "second:2 (debian 12)" {
		t.Errorf("warm scan named %q, OS target %q", warm.Artifact.Name, warm.Results[0].Target)
	}
	if cold.Artifact.OS.EOSL || !warm.Artifact.OS.EOSL {
		t.Errorf("EOSL cold %v warm %v, want false then true", cold.Artifact.OS.EOSL, warm.Artifact.OS.EOSL)
	}
	symbols := func(inv *inventory.Inventory) map[string]bool {
		for _, r := range inv.Results {
			for _, p := range r.Packages {
				if p.Name == "stdlib" {
					return p.Symbols
				}
			}
		}
		return nil
	}
	cs, ws := symbols(cold), symbols(warm)
	if len(cs) == 0 || len(ws) != len(cs) {
		t.Fatalf("stdlib symbols: %d cold, %d warm", len(cs), len(ws))
	}
	for s := range cs {
		if !ws[s] {
			t.Fatalf("warm scan lost symbol %s", s)
		}
	}
}

// countingPuts counts the entries written to a cache.
type countingPuts struct {
	layerfs.Cache
	puts atomic.Int32
}

func (c *countingPuts) Put(key string, write func(io.Writer) error) error {
	c.puts.Add(1)
	return c.Cache.Put(key, write)
}

// TestNoInventoryCache: a caller that keeps inventories itself gets only
// the layer records written, and a second scan still reads no layer.
func TestNoInventoryCache(t *testing.T) {
	var streams atomic.Int32
	img := cachedImage(t, &streams)
	cache := &countingPuts{Cache: diskcache.New(t.TempDir(), 0)}
	opts := scan.Options{Now: scanDate, Read: layerfs.Options{Cache: cache}, NoInventoryCache: true}
	if _, err := scan.Image(context.Background(), img, scan.ImageMeta{Name: "a:1", DigestsVerified: true}, opts); err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	if int(cache.puts.Load()) != len(layers) {
		t.Errorf("%d entries written for %d layers, want one per layer and no inventory", cache.puts.Load(), len(layers))
	}
	streams.Store(0)
	if _, err := scan.Image(context.Background(), img, scan.ImageMeta{Name: "a:1", DigestsVerified: true}, opts); err != nil {
		t.Fatal(err)
	}
	if streams.Load() != 0 {
		t.Errorf("second scan streamed %d layers", streams.Load())
	}
}

// TestWarningsNotCached: an image whose read had warnings is never taken
// from the inventory cache, so a warm scan reports them again, each with
// the diff ID of its layer.
func TestWarningsNotCached(t *testing.T) {
	var streams atomic.Int32
	layers := [][]lt.Entry{
		{
			{Name: "etc/os-release", Body: "ID=debian\nVERSION_ID=\"12\"\n"},
			{Name: "var/lib/dpkg/status", Body: dpkgStatus},
		},
		{
			{Name: "app/node_modules/broken/package.json", Body: `{"name": "broken", "version":`},
			{Name: "../escape", Body: "x"},
		},
	}
	var ls []v1.Layer
	for _, es := range layers {
		ls = append(ls, streamed{Layer: lt.NewLayer(t, es...), n: &streams})
	}
	img := lt.Image(t, ls, "ADD rootfs /", "COPY app /app")
	diff, err := ls[1].DiffID()
	if err != nil {
		t.Fatal(err)
	}
	cache := &countingCache{Cache: diskcache.New(t.TempDir(), 0)}
	var scans []*inventory.Inventory
	for range 2 {
		inv, err := scan.Image(context.Background(), img, scan.ImageMeta{Name: "warned:1"}, scan.Options{Now: scanDate, Read: layerfs.Options{Cache: cache}})
		if err != nil {
			t.Fatal(err)
		}
		scans = append(scans, inv)
	}
	for i, inv := range scans {
		var got []string
		for _, w := range inv.Warnings {
			if w.Layer != diff.String() {
				t.Errorf("scan %d: warning %+v: layer %q, want %s", i, w, w.Layer, diff)
			}
			got = append(got, w.Path)
		}
		if want := []string{"../escape", "app/node_modules/broken/package.json"}; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("scan %d: warnings about %q, want %q", i, got, want)
		}
	}
}
