package layerfs_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/layerfs"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

func wantAll(string, fs.FileMode, int64) bool { return true }

func read(t *testing.T, opts layerfs.Options, layers ...[]lt.Entry) *layerfs.Tree {
	t.Helper()
	var ls []v1.Layer
	for _, es := range layers {
		ls = append(ls, lt.NewLayer(t, es...))
	}
	if opts.Want == nil {
		opts.Want = wantAll
	}
	tree, err := layerfs.ReadLayers(context.Background(), ls, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// files lists every regular file and symlink of fsys as "path" or
// "path -> target", with file contents as "path=contents".
func files(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, p)
			if err != nil {
				return err
			}
			out = append(out, p+" -> "+target)
		case d.Type().IsRegular():
			b, err := fs.ReadFile(fsys, p)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				out = append(out, p+"="+string(b)+" (cut)")
				return nil
			}
			if err != nil {
				return err
			}
			out = append(out, p+"="+string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]lt.Entry
		want   []string
	}{
		{
			name: "later layer replaces a file",
			layers: [][]lt.Entry{
				{{Name: "etc/a", Body: "1"}, {Name: "etc/b", Body: "1"}},
				{{Name: "./etc/a", Body: "2"}},
			},
			want: []string{"etc/a=2", "etc/b=1"},
		},
		{
			name: "whiteout of a file",
			layers: [][]lt.Entry{
				{{Name: "etc/a", Body: "1"}, {Name: "etc/b", Body: "1"}},
				{{Name: "etc/.wh.a"}},
			},
			want: []string{"etc/b=1"},
		},
		{
			name: "whiteout of a directory hides everything below it",
			layers: [][]lt.Entry{
				{{Name: "usr/lib/x/a", Body: "1"}, {Name: "usr/lib/x/y/b", Body: "1"}, {Name: "usr/lib/xy", Body: "1"}},
				{{Name: "usr/lib/.wh.x"}},
			},
			want: []string{"usr/lib/xy=1"},
		},
		{
			name: "whiteout does not hide same-layer entries",
			layers: [][]lt.Entry{
				{{Name: "d/a", Body: "1"}},
				{{Name: "d/a", Body: "2"}, {Name: "d/.wh.a"}},
			},
			want: []string{"d/a=2"},
		},
		{
			name: "opaque directory hides lower children, keeps same-layer ones",
			layers: [][]lt.Entry{
				{{Name: "d/a", Body: "1"}, {Name: "d/sub/b", Body: "1"}, {Name: "e/c", Body: "1"}},
				{{Name: "d/"}, {Name: "d/new", Body: "2"}, {Name: "d/.wh..wh..opq"}},
			},
			want: []string{"d/new=2", "e/c=1"},
		},
		{
			name: "opaque root",
			layers: [][]lt.Entry{
				{{Name: "a", Body: "1"}},
				{{Name: ".wh..wh..opq"}, {Name: "b", Body: "2"}},
			},
			want: []string{"b=2"},
		},
		{
			name: "file replaces a directory",
			layers: [][]lt.Entry{
				{{Name: "lib/a.so", Body: "1"}},
				{{Name: "lib", Type: tar.TypeSymlink, Linkname: "usr/lib"}, {Name: "usr/lib/b.so", Body: "2"}},
			},
			want: []string{"lib -> usr/lib", "usr/lib/b.so=2"},
		},
		{
			name: "unwanted file and device hide lower kept files",
			layers: [][]lt.Entry{
				{{Name: "keep/a", Body: "1"}, {Name: "keep/b", Body: "1"}, {Name: "keep/c/d", Body: "1"}},
				{{Name: "keep/a", Body: "skip me"}, {Name: "keep/b", Type: tar.TypeChar}, {Name: "keep/c", Body: "skip me"}},
			},
			want: nil,
		},
		{
			name: "directory replaces a file, not the files below an earlier directory",
			layers: [][]lt.Entry{
				{{Name: "x", Body: "1"}, {Name: "y/z", Body: "1"}},
				{{Name: "x/"}, {Name: "y/"}},
			},
			want: []string{"y/z=1"},
		},
		{
			// As containerd applies them: ".." stops at the root.
			name: "escaping names read inside the root; devices and fifos not kept",
			layers: [][]lt.Entry{
				{{Name: "../evil", Body: "x"}, {Name: "a/../../evil2", Body: "x"}, {Name: "/../evil3", Body: "x"},
					{Name: "dev/null", Type: tar.TypeChar}, {Name: "run/fifo", Type: tar.TypeFifo},
					{Name: "/etc/ok", Body: "1"}},
			},
			want: []string{"etc/ok=1", "evil=x", "evil2=x", "evil3=x"},
		},
		{
			name: "hard links share contents, across layers too",
			layers: [][]lt.Entry{
				{{Name: "bin/a", Body: "A"}, {Name: "bin/b", Type: tar.TypeLink, Linkname: "bin/a"}},
				{{Name: "bin/c", Type: tar.TypeLink, Linkname: "./bin/a"}},
			},
			want: []string{"bin/a=A", "bin/b=A", "bin/c=A"},
		},
		{
			name: "a hard link keeps the contents its target had",
			layers: [][]lt.Entry{
				{{Name: "a", Body: "1"}},
				{{Name: "b", Type: tar.TypeLink, Linkname: "a"}, {Name: "a", Body: "2"}},
			},
			want: []string{"a=2", "b=1"},
		},
		{
			name: "a hard link to an unkept file is not kept, and hides what it replaces",
			layers: [][]lt.Entry{
				{{Name: "b", Body: "old"}},
				{{Name: "a", Body: "skip me"}, {Name: "b", Type: tar.TypeLink, Linkname: "a"}},
			},
			want: nil,
		},
	}
	// Every file is wanted except those of 7 bytes ("skip me").
	opts := layerfs.Options{Want: func(_ string, _ fs.FileMode, size int64) bool { return size != 7 }}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := read(t, opts, tc.layers...)
			got := files(t, tree.FS())
			if !slices.Equal(got, tc.want) {
				t.Errorf("files:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestEscapeWarning(t *testing.T) {
	tree := read(t, layerfs.Options{}, []lt.Entry{{Name: "../../etc/shadow", Body: "x"}})
	ws := tree.Warnings()
	if len(ws) != 1 || ws[0].Path != "../../etc/shadow" || !strings.Contains(ws[0].Layer, "layer 0 (sha256:") {
		t.Fatalf("warnings = %v, want one naming layer 0 and the path", ws)
	}
}

func TestSymlinks(t *testing.T) {
	tree := read(t, layerfs.Options{}, []lt.Entry{
		{Name: "usr/lib/os-release", Body: "ID=alpine\n"},
		{Name: "etc/os-release", Type: tar.TypeSymlink, Linkname: "../usr/lib/os-release"},
		{Name: "etc/abs", Type: tar.TypeSymlink, Linkname: "/usr/lib/os-release"},
		{Name: "etc/climb", Type: tar.TypeSymlink, Linkname: "../../../../usr/lib/os-release"},
		{Name: "etc/dir", Type: tar.TypeSymlink, Linkname: "/usr/lib"},
		{Name: "loop/a", Type: tar.TypeSymlink, Linkname: "b"},
		{Name: "loop/b", Type: tar.TypeSymlink, Linkname: "a"},
		{Name: "etc/dangling", Type: tar.TypeSymlink, Linkname: "/nowhere"},
		{Name: "etc/host", Type: tar.TypeSymlink, Linkname: "/etc/hostname"},
	})
	fsys := tree.FS()
	for _, name := range []string{"etc/os-release", "etc/abs", "etc/climb", "etc/dir/os-release"} {
		b, err := fs.ReadFile(fsys, name)
		if err != nil || string(b) != "ID=alpine\n" {
			t.Errorf("ReadFile(%s) = %q, %v; want the os-release contents", name, b, err)
		}
	}
	if _, err := fs.ReadFile(fsys, "loop/a"); !errors.Is(err, layerfs.ErrSymlinkLoop) {
		t.Errorf("symlink loop: err = %v, want ErrSymlinkLoop", err)
	}
	// Resolution never reaches the host: /etc/hostname exists on the host.
	for _, name := range []string{"etc/dangling", "etc/host"} {
		if _, err := fs.ReadFile(fsys, name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile(%s): err = %v, want not exist", name, err)
		}
	}
	des, err := fs.ReadDir(fsys, "etc/dir")
	if err != nil || len(des) != 1 || des[0].Name() != "os-release" {
		t.Errorf("ReadDir through a symlink = %v, %v", des, err)
	}
	if fi, err := fs.Lstat(fsys, "etc/os-release"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat = %v, %v; want a symlink", fi, err)
	}
}

func TestFSConformance(t *testing.T) {
	tree := read(t, layerfs.Options{}, []lt.Entry{
		{Name: "var/lib/dpkg/status.d/base", Body: "Package: base\n"},
		{Name: "var/lib/dpkg/status.d/tzdata", Body: "Package: tzdata\n"},
		{Name: "etc/os-release", Type: tar.TypeSymlink, Linkname: "../usr/lib/os-release"},
		{Name: "usr/lib/os-release", Body: "ID=debian\n"},
	})
	if err := fstest.TestFS(tree.FS(), "var/lib/dpkg/status.d/base", "var/lib/dpkg/status.d/tzdata",
		"etc/os-release", "usr/lib/os-release"); err != nil {
		t.Fatal(err)
	}
	des, err := fs.ReadDir(tree.FS(), "var/lib/dpkg/status.d")
	if err != nil || len(des) != 2 || des[0].Name() != "base" || des[1].Name() != "tzdata" {
		t.Fatalf("ReadDir(status.d) = %v, %v", des, err)
	}
}

func TestAtAndChanged(t *testing.T) {
	tree := read(t, layerfs.Options{},
		[]lt.Entry{{Name: "lib/db", Body: "a\n"}, {Name: "etc/x", Body: "1"}},
		[]lt.Entry{{Name: "etc/x", Body: "2"}},
		[]lt.Entry{{Name: "lib/db", Body: "a\nb\n"}},
		[]lt.Entry{{Name: "lib/.wh.db"}},
	)
	if tree.Len() != 4 {
		t.Fatalf("Len = %d", tree.Len())
	}
	for i, want := range []string{"a\n", "a\n", "a\nb\n", ""} {
		b, err := fs.ReadFile(tree.At(i), "lib/db")
		if want == "" {
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("At(%d): lib/db err = %v, want not exist", i, err)
			}
			continue
		}
		if string(b) != want || err != nil {
			t.Errorf("At(%d): lib/db = %q, %v; want %q", i, b, err, want)
		}
	}
	got := tree.Changed(func(p string, _ fs.FileMode, _ int64) bool { return p == "lib/db" })
	if want := []int{0, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("Changed(lib/db) = %v, want %v", got, want)
	}
	if got := files(t, tree.At(-1)); len(got) != 0 {
		t.Errorf("At(-1) = %v, want empty", got)
	}
	for _, tc := range []struct {
		path  string
		layer int
		ok    bool
	}{
		{"etc/x", 1, true},
		{"lib/db", 0, false}, // removed by layer 3
		{"etc", 0, false},    // implied directory
		{"absent", 0, false},
	} {
		if l, ok := tree.LayerOf(tc.path); l != tc.layer || ok != tc.ok {
			t.Errorf("LayerOf(%s) = %d, %v; want %d, %v", tc.path, l, ok, tc.layer, tc.ok)
		}
	}
}

// TestHistoryAndOnly: History lists the layers that wrote or removed a
// path (a whiteout of the path or of a folder above it), and Only holds
// the named entries as they stood, nothing else, nil when none was there,
// and refuses a symbolic link.
func TestHistoryAndOnly(t *testing.T) {
	tree := read(t, layerfs.Options{},
		[]lt.Entry{{Name: "app/a/f", Body: "1"}, {Name: "app/b", Body: "b"}},
		[]lt.Entry{{Name: "app/b", Body: "b2"}},
		[]lt.Entry{{Name: "app/a/f", Body: "2"}, {Name: "app/l", Type: tar.TypeSymlink, Linkname: "b"}},
		[]lt.Entry{{Name: "app/.wh.a"}},
		[]lt.Entry{{Name: "app/a/f", Body: "3"}},
	)
	for _, tc := range []struct {
		path string
		want []int
	}{
		{"app/a/f", []int{0, 2, 3, 4}},
		{"app/b", []int{0, 1}},
		{"app/l", []int{2}},
		{"app", []int{}},
		{"absent", []int{}},
	} {
		if got := tree.History(tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("History(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
	for _, tc := range []struct {
		layer int
		want  []string // nil: no filesystem
	}{
		{0, []string{"app/a/f=1", "app/b=b"}},
		{1, []string{"app/a/f=1", "app/b=b2"}},
		{3, []string{"app/b=b2"}},
		{4, []string{"app/a/f=3", "app/b=b2"}},
	} {
		fsys, ok := tree.Only(tc.layer, []string{"app/a/f", "app/b", "absent"})
		if !ok || fsys == nil {
			t.Fatalf("Only(%d) = %v, %v", tc.layer, fsys, ok)
		}
		if got := files(t, fsys); !slices.Equal(got, tc.want) {
			t.Errorf("Only(%d) = %q, want %q", tc.layer, got, tc.want)
		}
	}
	if fsys, ok := tree.Only(3, []string{"app/a/f", "absent"}); !ok || fsys != nil {
		t.Errorf("Only of removed files = %v, %v; want nil, true", fsys, ok)
	}
	if _, ok := tree.Only(2, []string{"app/b", "app/l"}); ok {
		t.Error("Only with a symbolic link: ok")
	}
}

// TestLinkUnderWrittenFolder: a layer that writes below a path a lower
// layer holds a symbolic link at, without a directory entry of its own,
// leaves the link; the path is reached through the link.
func TestLinkUnderWrittenFolder(t *testing.T) {
	tree := read(t, layerfs.Options{},
		[]lt.Entry{{Name: "a", Type: tar.TypeSymlink, Linkname: "b"}, {Name: "b/x", Body: "x"}},
		[]lt.Entry{{Name: "a/y", Body: "y"}},
	)
	fsys := tree.FS()
	if b, err := fs.ReadFile(fsys, "a/x"); err != nil || string(b) != "x" {
		t.Errorf("a/x = %q, %v; want the file b/x", b, err)
	}
	if _, err := fs.ReadFile(fsys, "a/y"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a/y: err = %v, want not exist (a leads to b)", err)
	}
	if got, want := files(t, fsys), []string{"a -> b", "b/x=x"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
}

// TestWarningIndex: every warning says which layer it is about, those
// made while reading a layer and those made while merging the layers.
func TestWarningIndex(t *testing.T) {
	tree := read(t, layerfs.Options{},
		[]lt.Entry{{Name: "etc/x", Body: "1"}},
		[]lt.Entry{{Name: "../escape", Body: "x"}},
		[]lt.Entry{{Name: "etc/y", Type: tar.TypeLink, Linkname: "etc/nothing"}},
	)
	var got []string
	for _, w := range tree.Warnings() {
		got = append(got, fmt.Sprintf("%d %s", w.Index, w.Path))
	}
	if want := []string{"1 ../escape", "2 etc/y"}; !slices.Equal(got, want) {
		t.Fatalf("warnings = %q (%+v), want %q", got, tree.Warnings(), want)
	}
}

func TestLimits(t *testing.T) {
	t.Run("file over the size limit", func(t *testing.T) {
		tree := read(t, layerfs.Options{MaxFileSize: 10},
			[]lt.Entry{{Name: "big", Body: "1"}},
			[]lt.Entry{{Name: "big", Body: strings.Repeat("x", 11)}, {Name: "small", Body: "ok"}})
		if got, want := files(t, tree.FS()), []string{"big=xxxxxxxxxx (cut)", "small=ok"}; !slices.Equal(got, want) {
			t.Errorf("files = %v, want %v (the oversized file cut at the limit)", got, want)
		}
		ws := tree.Warnings()
		if len(ws) != 1 || ws[0].Path != "big" || !strings.Contains(ws[0].Layer, "layer 1") {
			t.Errorf("warnings = %v", ws)
		}
	})
	t.Run("decompression bomb", func(t *testing.T) {
		// 64 MiB of zeros compress to ~64 KiB; the guard stops at 1 MiB.
		var tb bytes.Buffer
		tw := tar.NewWriter(&tb)
		tw.WriteHeader(&tar.Header{Name: "a", Size: 1, Mode: 0o644, Typeflag: tar.TypeReg})
		tw.Write([]byte("x"))
		tw.WriteHeader(&tar.Header{Name: "zeros", Size: 64 << 20, Mode: 0o644, Typeflag: tar.TypeReg})
		io.Copy(tw, io.LimitReader(zeroReader{}, 64<<20))
		tw.Close()
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(tb.Bytes())
		zw.Close()
		tree, err := layerfs.ReadLayers(context.Background(), []v1.Layer{&lt.Layer{Blob: gz.Bytes()}},
			layerfs.Options{Want: wantAll, MaxLayerSize: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := files(t, tree.FS()), []string{"a=x"}; !slices.Equal(got, want) {
			t.Errorf("files = %v, want %v", got, want)
		}
		ws := tree.Warnings()
		if len(ws) != 1 || ws[0].Path != "zeros" {
			t.Errorf("warnings = %v, want one naming zeros", ws)
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestCorruptLayer(t *testing.T) {
	good := lt.Tar(t, lt.Entry{Name: "a", Body: strings.Repeat("hello", 1000)})
	gzipped := lt.FromTar(t, good).Blob
	tests := []struct {
		name string
		blob []byte
	}{
		{"truncated gzip", gzipped[:len(gzipped)/2]},
		{"bad gzip data", append(append([]byte{}, gzipped[:12]...), bytes.Repeat([]byte{0xff}, 50)...)},
		{"truncated tar", good[:700]},
		{"garbage tar", bytes.Repeat([]byte("not a tar "), 100)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &lt.Layer{Blob: tc.blob}
			_, err := layerfs.ReadLayers(context.Background(), []v1.Layer{l}, layerfs.Options{Want: wantAll})
			diff, _ := l.DiffID()
			if err == nil || !strings.Contains(err.Error(), diff.String()) {
				t.Fatalf("err = %v, want an error naming %s", err, diff)
			}
		})
	}
}

func TestCondense(t *testing.T) {
	big := strings.Repeat("0123456789", 100)
	tree := read(t, layerfs.Options{
		MaxFileSize: 10,
		Condense: func(p string, _ fs.FileMode, _ int64) layerfs.Condenser {
			if !strings.HasSuffix(p, ".jar") {
				return nil
			}
			return func(p string, r io.Reader, size int64) ([]byte, error) {
				n, err := io.Copy(io.Discard, r)
				if n != size {
					t.Errorf("condenser read %d bytes, header said %d", n, size)
				}
				return []byte("summary"), err
			}
		},
	}, []lt.Entry{{Name: "app/x.jar", Body: big}, {Name: "app/y.txt", Body: "small"}})
	if got, want := files(t, tree.FS()), []string{"app/x.jar=summary", "app/y.txt=small"}; !slices.Equal(got, want) {
		t.Errorf("files = %v, want %v", got, want)
	}
}

func TestReadDir(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root+"/usr/lib/os-release", "ID=debian\n")
	mustSymlink(t, "/usr/lib/os-release", root+"/etc/os-release")
	mustSymlink(t, "/etc", root+"/hostetc") // must resolve inside root, not on the host
	tree, err := layerfs.ReadDir(context.Background(), root, layerfs.Options{Want: wantAll})
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(tree.FS(), "etc/os-release")
	if err != nil || string(b) != "ID=debian\n" {
		t.Errorf("etc/os-release = %q, %v", b, err)
	}
	if _, err := fs.ReadFile(tree.FS(), "hostetc/passwd"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("hostetc/passwd: err = %v, want not exist", err)
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := lt.NewLayer(t, lt.Entry{Name: "a", Body: "1"})
	if _, err := layerfs.ReadLayers(ctx, []v1.Layer{l}, layerfs.Options{Want: wantAll}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestLongSymlinkChain(t *testing.T) {
	var es []lt.Entry
	for i := range 45 {
		es = append(es, lt.Entry{Name: fmt.Sprintf("l%d", i), Type: tar.TypeSymlink, Linkname: fmt.Sprintf("l%d", i+1)})
	}
	es = append(es, lt.Entry{Name: "l45", Body: "end"})
	tree := read(t, layerfs.Options{}, es)
	if b, err := fs.ReadFile(tree.FS(), "l10"); err != nil || string(b) != "end" {
		t.Errorf("35 links: %q, %v", b, err)
	}
	if _, err := fs.ReadFile(tree.FS(), "l0"); !errors.Is(err, layerfs.ErrSymlinkLoop) {
		t.Errorf("45 links: err = %v, want ErrSymlinkLoop", err)
	}
}

// TestUnreadable: what stands where a reader wants a regular file but
// cannot be read is listed as the merged filesystem has it; whatever a
// later layer puts there instead, or removes, is not.
func TestUnreadable(t *testing.T) {
	const db = "var/lib/dpkg/status"
	fifo := lt.Entry{Name: db, Type: tar.TypeFifo}
	for _, tc := range []struct {
		name   string
		layers [][]lt.Entry
		want   map[string]string
	}{
		{"fifo", [][]lt.Entry{{fifo, {Name: "dev/null", Type: tar.TypeChar}}},
			map[string]string{db: "fifo where a regular file is expected"}},
		{"socket-like entry of an unknown type", [][]lt.Entry{{{Name: db, Type: 'Z'}}},
			map[string]string{db: `entry of type 'Z' where a regular file is expected`}},
		{"directory", [][]lt.Entry{{{Name: db + "/"}, {Name: db + "/x", Body: "1"}}},
			map[string]string{db: "directory where a regular file is expected"}},
		{"hard link to nothing", [][]lt.Entry{{{Name: "a", Body: "1"}}, {{Name: db, Type: tar.TypeLink, Linkname: "missing"}}},
			map[string]string{db: `hard link to "missing", which no lower layer holds`}},
		{"hard link to itself", [][]lt.Entry{{{Name: db, Type: tar.TypeLink, Linkname: db}}},
			map[string]string{db: `hard link to "var/lib/dpkg/status", which is no file`}},
		{"hard link to a device", [][]lt.Entry{{{Name: "dev/x", Type: tar.TypeChar}, {Name: db, Type: tar.TypeLink, Linkname: "dev/x"}}},
			map[string]string{db: "hard link to an entry that is no regular file where a regular file is expected"}},
		{"replaced by a file", [][]lt.Entry{{fifo}, {{Name: db, Body: "Package: x\n"}}}, map[string]string{}},
		{"replaced in the same layer", [][]lt.Entry{{fifo, {Name: db, Body: "Package: x\n"}}}, map[string]string{}},
		{"whited out", [][]lt.Entry{{fifo}, {{Name: "var/lib/dpkg/.wh.status"}}}, map[string]string{}},
		{"under an opaque directory", [][]lt.Entry{{fifo}, {{Name: "var/lib/dpkg/.wh..wh..opq"}}}, map[string]string{}},
		{"its directory replaced by a file", [][]lt.Entry{{fifo}, {{Name: "var/lib/dpkg", Body: "x"}}}, map[string]string{}},
		{"a fifo again", [][]lt.Entry{{{Name: db, Body: "Package: x\n"}}, {fifo}},
			map[string]string{db: "fifo where a regular file is expected"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := read(t, layerfs.Options{Want: func(p string, _ fs.FileMode, _ int64) bool { return p == db }}, tc.layers...)
			if got := tree.Unreadable(); !maps.Equal(got, tc.want) {
				t.Errorf("Unreadable() = %q, want %q", got, tc.want)
			}
			if _, err := fs.ReadFile(tree.FS(), db); len(tc.want) > 0 && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("reading %s: %v, want it not to exist", db, err)
			}
		})
	}
}

// TestReadDirUnreadable: files and directories the walk cannot read are
// listed where a reader wants a file (or, for a directory, may find one).
func TestReadDirUnreadable(t *testing.T) {
	root := t.TempDir()
	testutil.Readable(t, root)
	mustWrite(t, root+"/var/lib/dpkg/status", "Package: x\n")
	mustWrite(t, root+"/lib/apk/db/x", "")
	if err := os.Mkdir(root+"/lib/apk/db/installed", 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, root+"/srv/private/x", "")
	if err := os.MkdirAll(root+"/var/lib/rpm", 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", root+"/var/lib/rpm/Packages")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want := func(p string, _ fs.FileMode, _ int64) bool {
		return p == "var/lib/dpkg/status" || p == "lib/apk/db/installed" || p == "var/lib/rpm/Packages"
	}
	var tree *layerfs.Tree
	testutil.Unreadable(t, func() {
		tree, err = layerfs.ReadDir(context.Background(), root, layerfs.Options{Want: want})
	}, root+"/var/lib/dpkg/status", root+"/srv/private")
	if err != nil {
		t.Fatal(err)
	}
	got := tree.Unreadable()
	if len(got) != 4 || got["lib/apk/db/installed"] != "directory where a regular file is expected" ||
		got["var/lib/rpm/Packages"] != "socket where a regular file is expected" ||
		!strings.HasSuffix(got["var/lib/dpkg/status"], "permission denied") || !strings.HasSuffix(got["srv/private"], "permission denied") {
		t.Errorf("Unreadable() = %q", got)
	}
}
