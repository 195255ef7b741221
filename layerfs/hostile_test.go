package layerfs_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/vigil-scanner/vigil/layerfs"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// wantDB is a Want like the catalogers': some paths are wanted whatever
// the file, executables by size, nothing else.
func wantDB(p string, mode fs.FileMode, size int64) bool {
	switch p {
	case "etc/os-release", "usr/lib/os-release", "var/lib/dpkg/status", "lib/apk/db/installed":
		return true
	}
	return mode&0o111 != 0 && size >= 100
}

// warnings lists a tree's warnings as "layer N path: message".
func warnings(tree *layerfs.Tree) []string {
	var out []string
	for _, w := range tree.Warnings() {
		layer, _, _ := strings.Cut(w.Layer, " (")
		out = append(out, layer+" "+w.Path+": "+w.Msg)
	}
	return out
}

func TestOddEntries(t *testing.T) {
	exe := strings.Repeat("\x7fELF", 40) // wanted: executable, 160 bytes
	tests := []struct {
		name     string
		all      bool // want every file, not only wantDB's
		layers   [][]lt.Entry
		files    []string
		warnings []string // substrings, one per warning, in order
	}{
		{
			name:     "absolute name",
			layers:   [][]lt.Entry{{{Name: "/etc/os-release", Body: "ID=x\n"}}},
			files:    []string{"etc/os-release=ID=x\n"},
			warnings: []string{`layer 0 /etc/os-release: absolute entry name; read as "etc/os-release"`},
		},
		{
			name:     "name climbing above the root",
			layers:   [][]lt.Entry{{{Name: "../../../etc/os-release", Body: "ID=x\n"}}},
			files:    []string{"etc/os-release=ID=x\n"},
			warnings: []string{`layer 0 ../../../etc/os-release: entry name climbs above the root; read as "etc/os-release"`},
		},
		{
			name:     "name with .. inside the root",
			layers:   [][]lt.Entry{{{Name: "usr/../etc/os-release", Body: "ID=x\n"}}},
			files:    []string{"etc/os-release=ID=x\n"},
			warnings: []string{`layer 0 usr/../etc/os-release: entry name holds ".."; read as "etc/os-release"`},
		},
		{
			name: "whiteouts that name nothing",
			all:  true,
			layers: [][]lt.Entry{
				{{Name: "d/a", Body: "1"}, {Name: "b", Body: "2"}},
				{{Name: ".wh."}, {Name: "d/.wh.."}, {Name: "d/.wh..."}, {Name: "d/.wh..wh.plnk/"}},
			},
			files: []string{"b=2", "d/a=1"},
			warnings: []string{
				"layer 1 .wh.: whiteout that names no file; ignored",
				"layer 1 d/.wh..: whiteout that names no file; ignored",
				"layer 1 d/.wh...: whiteout that names no file; ignored",
			},
		},
		{
			name: "devices and fifos where a cataloger expects a file",
			layers: [][]lt.Entry{
				{{Name: "etc/os-release", Body: "ID=x\n"}},
				{{Name: "etc/os-release", Type: tar.TypeChar}, {Name: "var/lib/dpkg/status", Type: tar.TypeFifo},
					{Name: "lib/apk/db/installed", Type: tar.TypeBlock}, {Name: "dev/null", Type: tar.TypeChar}},
			},
			files: nil,
			warnings: []string{
				"layer 1 etc/os-release: character device where a regular file is expected; not read",
				"layer 1 var/lib/dpkg/status: fifo where a regular file is expected; not read",
				"layer 1 lib/apk/db/installed: block device where a regular file is expected; not read",
			},
		},
		{
			// Debian's usr/bin/uncompress is a hard link to gunzip, a
			// shell script no cataloger wants.
			name: "hard link to an unwanted file of the same layer",
			layers: [][]lt.Entry{{
				{Name: "usr/bin/gunzip", Body: "#!/bin/sh\n", Mode: 0o755},
				{Name: "usr/bin/uncompress", Type: tar.TypeLink, Linkname: "usr/bin/gunzip", Mode: 0o755},
			}},
			files: nil,
		},
		{
			name: "hard link to a wanted file of the same layer",
			layers: [][]lt.Entry{{
				{Name: "usr/bin/app", Body: exe, Mode: 0o755},
				{Name: "usr/bin/app2", Type: tar.TypeLink, Linkname: "usr/bin/app", Mode: 0o755},
			}},
			files: []string{"usr/bin/app=" + exe, "usr/bin/app2=" + exe},
		},
		{
			// The link's path is wanted, its target's is not: a second
			// pass over the layer reads the target for it.
			name: "wanted hard link to an unwanted file of the same layer",
			layers: [][]lt.Entry{{
				{Name: "tmp/blob", Body: "Package: hidden\n"},
				{Name: "var/lib/dpkg/status", Type: tar.TypeLink, Linkname: "tmp/blob"},
			}},
			files: []string{"var/lib/dpkg/status=Package: hidden\n"},
		},
		{
			name: "wanted hard links to a hard link to an unwanted file",
			layers: [][]lt.Entry{{
				{Name: "tmp/blob", Body: "Package: hidden\n"},
				{Name: "var/lib/dpkg/status", Type: tar.TypeLink, Linkname: "tmp/blob"},
				{Name: "lib/apk/db/installed", Type: tar.TypeLink, Linkname: "var/lib/dpkg/status"},
				{Name: "tmp/other", Type: tar.TypeLink, Linkname: "var/lib/dpkg/status"},
			}},
			files: []string{"lib/apk/db/installed=Package: hidden\n", "var/lib/dpkg/status=Package: hidden\n"},
		},
		{
			name: "hard link to a kept file of a lower layer",
			layers: [][]lt.Entry{
				{{Name: "usr/lib/os-release", Body: "ID=x\n"}},
				{{Name: "etc/os-release", Type: tar.TypeLink, Linkname: "/usr/lib/os-release"}},
			},
			files: []string{"etc/os-release=ID=x\n", "usr/lib/os-release=ID=x\n"},
		},
		{
			name: "wanted hard link to an unkept file of a lower layer",
			layers: [][]lt.Entry{
				{{Name: "tmp/blob", Body: "ID=x\n"}, {Name: "tmp/other", Body: "y"}},
				{{Name: "etc/os-release", Type: tar.TypeLink, Linkname: "tmp/blob"},
					{Name: "usr/bin/x", Type: tar.TypeLink, Linkname: "tmp/other"}},
			},
			files:    nil,
			warnings: []string{`layer 1 etc/os-release: hard link to "tmp/blob" of a lower layer, whose contents were not read; dropped`},
		},
		{
			name: "hard links to nothing",
			layers: [][]lt.Entry{
				{{Name: "gone", Body: "1"}},
				{{Name: ".wh.gone"}},
				{{Name: "a", Type: tar.TypeLink, Linkname: "missing"}, {Name: "b", Type: tar.TypeLink, Linkname: "gone"},
					{Name: "c", Type: tar.TypeLink, Linkname: "c"}, {Name: "d", Type: tar.TypeLink, Linkname: "/"},
					{Name: "e", Type: tar.TypeLink, Linkname: "../../gone"}},
			},
			files: nil,
			warnings: []string{
				`layer 2 c: hard link to "c", which is no file; dropped`,
				`layer 2 d: hard link to "/", which is no file; dropped`,
				`layer 2 e: hard link target "../../gone": entry name climbs above the root; read as "gone"`,
				`layer 2 a: hard link to "missing", which no lower layer holds; dropped`,
				`layer 2 b: hard link to "gone", which no lower layer holds; dropped`,
				`layer 2 e: hard link to "gone", which no lower layer holds; dropped`,
			},
		},
		{
			name: "hard link to a device",
			layers: [][]lt.Entry{{
				{Name: "dev/x", Type: tar.TypeChar},
				{Name: "etc/os-release", Type: tar.TypeLink, Linkname: "dev/x"},
			}},
			files:    nil,
			warnings: []string{"layer 0 etc/os-release: hard link to an entry that is no regular file where a regular file is expected; not read"},
		},
		{
			name: "symbolic link loop where a file is expected",
			layers: [][]lt.Entry{
				{{Name: "etc/os-release", Type: tar.TypeSymlink, Linkname: "../usr/lib/os-release"}},
				{{Name: "usr/lib/os-release", Type: tar.TypeSymlink, Linkname: "/etc/os-release"},
					{Name: "other/loop", Type: tar.TypeSymlink, Linkname: "loop"}},
			},
			files: []string{"etc/os-release -> ../usr/lib/os-release", "other/loop -> loop", "usr/lib/os-release -> /etc/os-release"},
			warnings: []string{
				"layer 0 etc/os-release: symbolic link loop, or a chain of more than 40 links; not followed",
				"layer 1 usr/lib/os-release: symbolic link loop, or a chain of more than 40 links; not followed",
			},
		},
		{
			name: "symbolic link to a file that was not read",
			layers: [][]lt.Entry{
				{{Name: "tmp/blob", Body: "Package: hidden\n"}},
				{{Name: "var/lib/dpkg/status", Type: tar.TypeSymlink, Linkname: "../../../tmp/blob"}},
			},
			files:    []string{"var/lib/dpkg/status -> ../../../tmp/blob"},
			warnings: []string{`layer 1 var/lib/dpkg/status: symbolic link to "tmp/blob", a file whose contents were not read`},
		},
		{
			// Each link climbs above the root; resolved as in a
			// container, they stay in the image.
			name: "symbolic links climbing above the root, across layers",
			all:  true,
			layers: [][]lt.Entry{
				{{Name: "etc/os-release", Type: tar.TypeSymlink, Linkname: "/../../a/os-release"}},
				{{Name: "a", Type: tar.TypeSymlink, Linkname: "../../../b/c"}},
				{{Name: "b/c/os-release", Body: "ID=deep\n"}, {Name: "usr/lib/os-release", Type: tar.TypeSymlink, Linkname: "../../../../../../etc/os-release"}},
			},
			files: []string{"a -> ../../../b/c", "b/c/os-release=ID=deep\n", "etc/os-release -> /../../a/os-release",
				"usr/lib/os-release -> ../../../../../../etc/os-release"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := wantDB
			if tc.all {
				want = wantAll
			}
			tree := read(t, layerfs.Options{Want: want}, tc.layers...)
			if got := files(t, tree.FS()); !slices.Equal(got, tc.files) {
				t.Errorf("files:\n got %q\nwant %q", got, tc.files)
			}
			got := warnings(tree)
			if len(got) != len(tc.warnings) {
				t.Fatalf("warnings:\n got %q\nwant %q", got, tc.warnings)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.warnings[i]) {
					t.Errorf("warning %d = %q, want %q", i, got[i], tc.warnings[i])
				}
			}
		})
	}
	t.Run("reads through climbing links", func(t *testing.T) {
		tree := read(t, layerfs.Options{Want: wantAll}, tests[len(tests)-1].layers...)
		for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
			if b, err := fs.ReadFile(tree.FS(), p); err != nil || string(b) != "ID=deep\n" {
				t.Errorf("%s = %q, %v", p, b, err)
			}
		}
	})
}

func TestWarningsBounded(t *testing.T) {
	var es []lt.Entry
	for i := range 1000 {
		es = append(es, lt.Entry{Name: fmt.Sprintf("/f%d", i), Body: "x"})
	}
	ws := read(t, layerfs.Options{}, es).Warnings()
	if len(ws) != 101 || ws[100].Msg != "900 more warnings about this layer not shown" {
		t.Errorf("%d warnings, the last %v; want 100 and a count of the others", len(ws), ws[len(ws)-1])
	}
}

// TestNoAllocationFromHeader: a tar header may declare any size; memory
// follows the bytes that come.
func TestNoAllocationFromHeader(t *testing.T) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Name: "var/lib/dpkg/status", Size: 400 << 20, Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write([]byte("Package: a\n"))
	// no more: the stream ends 400 MiB early
	l := &lt.Layer{Blob: tb.Bytes()}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := layerfs.ReadLayers(context.Background(), []v1.Layer{l}, layerfs.Options{Want: wantAll})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "var/lib/dpkg/status") {
		t.Errorf("err = %v, want one naming the truncated entry", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("reading allocated %d bytes for a file that held 11", n)
	}
}

// lyingLayer claims a digest its bytes do not have.
type lyingLayer struct {
	*lt.Layer
	digest v1.Hash
}

func (l lyingLayer) Digest() (v1.Hash, error) { return l.digest, nil }

func TestIntegrity(t *testing.T) {
	clean := lt.NewLayer(t, lt.Entry{Name: "etc/os-release", Body: "ID=clean\n"})
	evil := lt.NewLayer(t, lt.Entry{Name: "etc/os-release", Body: "ID=evil\n"})
	cleanDigest, _ := clean.Digest()
	cleanDiff, _ := clean.DiffID()

	t.Run("stored bytes not matching the digest", func(t *testing.T) {
		img := lt.Image(t, []v1.Layer{lyingLayer{Layer: clean, digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("cd", 32)}}})
		_, err := layerfs.ReadImage(context.Background(), img, layerfs.Options{Want: wantAll})
		if err == nil || !strings.Contains(err.Error(), "layer 0 (") || !strings.Contains(err.Error(), "do not match its digest sha256:cdcd") {
			t.Errorf("err = %v, want one naming layer 0 and its digest", err)
		}
		opts := layerfs.Options{Want: wantAll, TrustDigests: true}
		if _, err := layerfs.ReadImage(context.Background(), img, opts); err != nil {
			t.Errorf("with TrustDigests: %v (the source checks digests itself)", err)
		}
	})

	t.Run("uncompressed layer whose digest is its diff ID", func(t *testing.T) {
		tb := lt.Tar(t, lt.Entry{Name: "etc/os-release", Body: "ID=plain\n"})
		img := lt.Image(t, []v1.Layer{&lt.Layer{Blob: tb}})
		tree, err := layerfs.ReadImage(context.Background(), img, layerfs.Options{Want: wantAll})
		if err != nil {
			t.Fatal(err)
		}
		if got := files(t, tree.FS()); !slices.Equal(got, []string{"etc/os-release=ID=plain\n"}) {
			t.Errorf("files = %q", got)
		}
	})

	// An archive whose config gives its evil layer the clean layer's
	// diff ID, and whose manifest gives it the clean layer's digest: the
	// cache holds a record for that pair, which must not be used.
	t.Run("lying layer whose record the cache holds", func(t *testing.T) {
		c := newMemCache()
		opts := layerfs.Options{Want: wantAll, Cache: c, CacheKey: "k"}
		readImage(t, lt.Image(t, []v1.Layer{clean}), opts)
		if _, puts := c.counts(); puts != 1 {
			t.Fatalf("%d puts, want 1", puts)
		}
		liar := &lt.Layer{Blob: evil.Blob, Diff: cleanDiff}
		for _, l := range []v1.Layer{lyingLayer{Layer: liar, digest: cleanDigest}, liar} {
			img := lt.Image(t, []v1.Layer{l})
			_, err := layerfs.ReadImage(context.Background(), img, opts)
			if err == nil || !strings.Contains(err.Error(), "layer 0 ("+cleanDiff.String()+")") || !strings.Contains(err.Error(), "do not match") {
				t.Errorf("err = %v, want one naming layer 0", err)
			}
		}
		if _, puts := c.counts(); puts != 1 {
			t.Errorf("a lying layer was stored")
		}
	})

	t.Run("corrupt gzip checksum", func(t *testing.T) {
		blob := bytes.Clone(clean.Blob)
		blob[len(blob)-6] ^= 0xff // in the CRC-32 of the trailer
		l := &lt.Layer{Blob: blob, Diff: cleanDiff}
		_, err := layerfs.ReadImage(context.Background(), lt.Image(t, []v1.Layer{l}), layerfs.Options{Want: wantAll})
		if err == nil || !strings.Contains(err.Error(), "layer 0 ("+cleanDiff.String()+")") || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("err = %v, want a checksum error naming layer 0", err)
		}
	})

	t.Run("data after the tar counts", func(t *testing.T) {
		tb := append(lt.Tar(t, lt.Entry{Name: "a", Body: "1"}), "trailing"...)
		l := lt.FromTar(t, tb)
		if _, err := layerfs.ReadImage(context.Background(), lt.Image(t, []v1.Layer{l}), layerfs.Options{Want: wantAll}); err != nil {
			t.Errorf("a layer with data after its tar, diff ID over all of it: %v", err)
		}
		l.Diff = lt.FromTar(t, tb[:len(tb)-8]).Diff
		if _, err := layerfs.ReadImage(context.Background(), lt.Image(t, []v1.Layer{l}), layerfs.Options{Want: wantAll}); err == nil {
			t.Error("the diff ID of the tar alone accepted for a layer with data after it")
		}
	})
}

func TestSecondPassCached(t *testing.T) {
	c := newMemCache()
	opts := layerfs.Options{Want: wantDB, Cache: c, CacheKey: "k"}
	img := lt.Image(t, []v1.Layer{lt.NewLayer(t,
		lt.Entry{Name: "tmp/blob", Body: "Package: hidden\n"},
		lt.Entry{Name: "var/lib/dpkg/status", Type: tar.TypeLink, Linkname: "tmp/blob"})})
	for range 2 {
		tree := readImage(t, img, opts)
		if got := files(t, tree.FS()); !slices.Equal(got, []string{"var/lib/dpkg/status=Package: hidden\n"}) {
			t.Errorf("files = %q", got)
		}
	}
	if hits, puts := c.counts(); hits != 1 || puts != 1 {
		t.Errorf("%d hits, %d puts; want 1, 1", hits, puts)
	}
}

func TestReadDirHostile(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root+"/usr/lib/os-release", "ID=debian\n")
	mustSymlink(t, "/etc/hostname", root+"/etc/os-release") // the host's, read as the root's
	mustSymlink(t, "/", root+"/host")
	if err := os.MkdirAll(root+"/var/lib/dpkg", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(root+"/var/lib/dpkg/status", 0o644); err != nil {
		t.Fatal(err)
	}
	// Were the fifo opened, the read would block forever.
	tree, err := layerfs.ReadDir(context.Background(), root, layerfs.Options{Want: wantDB})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadFile(tree.FS(), "etc/os-release"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("etc/os-release: err = %v, want not exist (the root has none)", err)
	}
	if _, err := fs.ReadFile(tree.FS(), "host/usr/lib/os-release"); err != nil {
		t.Errorf("host/usr/lib/os-release: %v, want the root's own", err)
	}
	if got, want := warnings(tree), []string{root + " var/lib/dpkg/status: fifo where a regular file is expected; not read"}; !slices.Equal(got, want) {
		t.Errorf("warnings = %q, want %q", got, want)
	}
}

// TestFetch: files that links lead to, which the first read could not
// know to keep, are read by Fetch.
func TestFetch(t *testing.T) {
	layers := [][]lt.Entry{
		{{Name: "opt/x/status", Body: "Package: hidden\n"}, {Name: "tmp/os", Body: "ID=linked\n"}, {Name: "tmp/blob", Body: "P:apk\n"}},
		{{Name: "var/lib/dpkg", Type: tar.TypeSymlink, Linkname: "/opt/x"},
			{Name: "etc/os-release", Type: tar.TypeSymlink, Linkname: "../tmp/os"},
			{Name: "lib/apk/db/installed", Type: tar.TypeLink, Linkname: "tmp/blob"}},
	}
	check := func(t *testing.T, tree *layerfs.Tree) {
		t.Helper()
		// A reader goes through the directory link: a miss, remembered.
		if _, err := fs.ReadFile(tree.FS(), "var/lib/dpkg/status"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("status before Fetch: err = %v", err)
		}
		want := []string{"opt/x/status", "tmp/blob", "tmp/os"}
		if got := tree.Unread(); !slices.Equal(got, want) {
			t.Fatalf("Unread = %q, want %q", got, want)
		}
		if ws := warnings(tree); !slices.ContainsFunc(ws, func(w string) bool {
			return strings.Contains(w, "opt/x/status: reached through a symbolic link, but its contents were not read")
		}) {
			t.Errorf("warnings = %q, want one for the missed status file", ws)
		}
		fetched, err := tree.Fetch(context.Background(), tree.Unread())
		if err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]string{"var/lib/dpkg/status": "Package: hidden\n", "etc/os-release": "ID=linked\n", "lib/apk/db/installed": "P:apk\n"} {
			if b, err := fs.ReadFile(fetched.FS(), p); err != nil || string(b) != want {
				t.Errorf("%s after Fetch = %q, %v", p, b, err)
			}
		}
		if got := fetched.Unread(); len(got) != 0 {
			t.Errorf("Unread after Fetch = %q", got)
		}
		if ws := warnings(fetched); len(ws) != 0 {
			t.Errorf("warnings after Fetch = %q", ws)
		}
		if b, err := fs.ReadFile(fetched.At(0), "opt/x/status"); err != nil || string(b) != "Package: hidden\n" {
			t.Errorf("At(0) after Fetch: %q, %v", b, err)
		}
	}
	t.Run("layers", func(t *testing.T) {
		check(t, read(t, layerfs.Options{Want: wantDB}, layers...))
	})
	t.Run("directory", func(t *testing.T) {
		root := t.TempDir()
		mustWrite(t, root+"/opt/x/status", "Package: hidden\n")
		mustWrite(t, root+"/tmp/os", "ID=linked\n")
		mustWrite(t, root+"/tmp/blob", "P:apk\n")
		mustSymlink(t, "/opt/x", root+"/var/lib/dpkg")
		mustSymlink(t, "../tmp/os", root+"/etc/os-release")
		if err := os.MkdirAll(root+"/lib/apk/db", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(root+"/tmp/blob", root+"/lib/apk/db/installed"); err != nil {
			t.Fatal(err)
		}
		tree, err := layerfs.ReadDir(context.Background(), root, layerfs.Options{Want: wantDB})
		if err != nil {
			t.Fatal(err)
		}
		// A directory's hard links are files of their own: only the
		// symbolic links are left to fetch.
		if _, err := fs.ReadFile(tree.FS(), "var/lib/dpkg/status"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("status before Fetch: err = %v", err)
		}
		if got, want := tree.Unread(), []string{"opt/x/status", "tmp/os"}; !slices.Equal(got, want) {
			t.Fatalf("Unread = %q, want %q", got, want)
		}
		fetched, err := tree.Fetch(context.Background(), tree.Unread())
		if err != nil {
			t.Fatal(err)
		}
		if b, err := fs.ReadFile(fetched.FS(), "var/lib/dpkg/status"); err != nil || string(b) != "Package: hidden\n" {
			t.Errorf("status after Fetch = %q, %v", b, err)
		}
	})
}
