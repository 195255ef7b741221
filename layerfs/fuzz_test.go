package layerfs_test

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/vigil-scanner/vigil/layerfs"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// fuzzSeeds are layers with something of every kind layerfs handles.
func fuzzSeeds(t testing.TB) [][]byte {
	return [][]byte{
		lt.Tar(t, lt.Entry{Name: "etc/os-release", Body: "ID=x\n"}, lt.Entry{Name: "usr/lib/os-release", Type: tar.TypeSymlink, Linkname: "../../etc/os-release"},
			lt.Entry{Name: "d/"}, lt.Entry{Name: "d/a", Body: "a"}, lt.Entry{Name: "bin/x", Body: strings.Repeat("\x7fELF", 30), Mode: 0o755}),
		lt.Tar(t, lt.Entry{Name: "d/.wh..wh..opq"}, lt.Entry{Name: ".wh.etc"}, lt.Entry{Name: "d/.wh.."}, lt.Entry{Name: "x/.wh..wh.plnk"}),
		lt.Tar(t, lt.Entry{Name: "tmp/blob", Body: "Package: a\n"}, lt.Entry{Name: "var/lib/dpkg/status", Type: tar.TypeLink, Linkname: "tmp/blob"},
			lt.Entry{Name: "lib/apk/db/installed", Type: tar.TypeLink, Linkname: "../../etc/os-release"}, lt.Entry{Name: "dev/c", Type: tar.TypeChar}),
		lt.Tar(t, lt.Entry{Name: "/abs", Body: "1"}, lt.Entry{Name: "../../up", Body: "2"}, lt.Entry{Name: "a/../b", Body: "3"},
			lt.Entry{Name: "loop", Type: tar.TypeSymlink, Linkname: "loop"}, lt.Entry{Name: "etc/os-release", Type: tar.TypeFifo}),
	}
}

// FuzzReadLayers reads two layers of arbitrary tar bytes and walks the
// result: whatever the input, reading ends with a tree or an error, never
// a panic, and the tree's filesystem answers every question about what it
// lists.
func FuzzReadLayers(f *testing.F) {
	seeds := fuzzSeeds(f)
	for i := range seeds {
		f.Add(seeds[i], seeds[(i+1)%len(seeds)])
	}
	// A database behind a directory link, read by Fetch.
	f.Add(lt.Tar(f, lt.Entry{Name: "opt/x/status", Body: "Package: a\n"}, lt.Entry{Name: "opt/os", Body: "ID=x\n"}),
		lt.Tar(f, lt.Entry{Name: "var/lib/dpkg", Type: tar.TypeSymlink, Linkname: "/opt/x"},
			lt.Entry{Name: "etc/os-release", Type: tar.TypeSymlink, Linkname: "../opt/os"}))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			readAndWalk(t, a, b)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("reading two small layers takes more than 10 s")
		}
	})
}

func readAndWalk(t *testing.T, a, b []byte) {
	layers := []v1.Layer{&lt.Layer{Blob: a}, &lt.Layer{Blob: b}}
	opts := layerfs.Options{Want: wantDB, MaxFileSize: 1 << 12, MaxLayerSize: 1 << 20}
	tree, err := layerfs.ReadLayers(context.Background(), layers, opts)
	if err != nil {
		return
	}
	for i := -1; i < tree.Len(); i++ {
		walk(t, tree.At(i))
	}
	// The catalogers' files are opened by name, through whatever links
	// lead to them.
	for _, p := range []string{"etc/os-release", "usr/lib/os-release", "var/lib/dpkg/status", "lib/apk/db/installed"} {
		fs.ReadFile(tree.FS(), p)
	}
	// What the readers reached through links and the tree did not keep
	// is read again, from the same layers.
	if unread := tree.Unread(); len(unread) > 0 {
		fetched, err := tree.Fetch(context.Background(), unread)
		if err != nil {
			t.Errorf("Fetch(%q): %v", unread, err)
			return
		}
		walk(t, fetched.FS())
	}
	tree.Changed(func(string, fs.FileMode, int64) bool { return true })
	for _, w := range tree.Warnings() {
		if w.Layer == "" || w.Msg == "" {
			t.Errorf("warning without a layer or a message: %+v", w)
		}
	}
}

// walk visits everything fsys lists and checks that it can be read as
// listed.
func walk(t *testing.T, fsys fs.FS) {
	t.Helper()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walking %s: %v", p, err)
		}
		if !fs.ValidPath(p) {
			return fmt.Errorf("invalid path %q listed", p)
		}
		switch {
		case d.IsDir():
			if _, err := fs.ReadDir(fsys, p); err != nil {
				return fmt.Errorf("ReadDir(%s): %v", p, err)
			}
		case d.Type()&fs.ModeSymlink != 0:
			if _, err := fs.ReadLink(fsys, p); err != nil {
				return fmt.Errorf("ReadLink(%s): %v", p, err)
			}
			// Following may fail (dangling, looping), but not panic.
			fs.ReadFile(fsys, p)
			fs.Stat(fsys, p)
		default:
			b, err := fs.ReadFile(fsys, p)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("ReadFile(%s): %v", p, err)
			}
			if len(b) > 1<<12 {
				return fmt.Errorf("%s: %d bytes kept, more than MaxFileSize", p, len(b))
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
