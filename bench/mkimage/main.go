// Command mkimage writes a docker-save image archive whose layers are copied
// from directories of this machine, so benchmarks run on real package
// databases without pulling images.
//
// Each -layer flag adds one layer (base first) made of comma-separated
// items of the form SRC[=DST][:MB]: the file or directory tree at SRC is
// stored at DST (default SRC) inside the image; MB, when given, bounds the
// regular-file bytes taken from that item (files are taken in lexical order
// and those that would overflow the budget are left out). Only
// world-readable files are copied, so nothing private ends up in an image.
//
//	mkimage -o debian.tar -tag bench/debian:12 \
//	  -layer /etc/os-release,/var/lib/dpkg,/usr/lib/x86_64-linux-gnu:100 \
//	  -layer /usr/bin:80
package main

import (
	"archive/tar"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// item is one SRC[=DST][:MB] of a -layer flag.
type item struct {
	src, dst string
	budget   int64 // bytes; 0 means unbounded
}

type layerFlags [][]item

func (l *layerFlags) String() string { return fmt.Sprint(*l) }

func (l *layerFlags) Set(s string) error {
	var items []item
	for f := range strings.SplitSeq(s, ",") {
		it, err := parseItem(f)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	*l = append(*l, items)
	return nil
}

func parseItem(s string) (item, error) {
	var it item
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		mb, err := strconv.ParseInt(s[i+1:], 10, 64)
		if err != nil || mb <= 0 {
			return it, fmt.Errorf("item %q: budget must be a positive number of MB", s)
		}
		it.budget = mb << 20
		s = s[:i]
	}
	it.src, it.dst, _ = strings.Cut(s, "=")
	if it.dst == "" {
		it.dst = it.src
	}
	it.dst = strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(it.dst)), "/")
	if it.src == "" || it.dst == "" {
		return it, fmt.Errorf("item %q: need a source and a destination below /", s)
	}
	return it, nil
}

func main() {
	var layers layerFlags
	out := flag.String("o", "", "output archive (docker-save format, gzip layers)")
	tag := flag.String("tag", "bench/image:latest", "tag recorded in the archive")
	flag.Var(&layers, "layer", "one layer: comma-separated SRC[=DST][:MB] items (repeatable, base first)")
	flag.Parse()
	if *out == "" || len(layers) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *tag, layers); err != nil {
		log.Fatal(err)
	}
}

func run(out, tag string, layers layerFlags) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".mkimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	img := empty.Image
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Created = v1.Time{Time: time.Now().UTC().Truncate(time.Second)}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	for i, items := range layers {
		tarPath := filepath.Join(tmp, fmt.Sprintf("layer%d.tar", i))
		n, size, err := writeLayer(tarPath, items)
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		log.Printf("layer %d: %d entries, %d MB uncompressed", i, n, size>>20)
		l, err := tarball.LayerFromFile(tarPath)
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:   l,
			History: v1.History{CreatedBy: "mkimage " + describe(items), Created: cfg.Created},
		})
		if err != nil {
			return err
		}
	}
	return tarball.WriteToFile(out, ref, img)
}

func describe(items []item) string {
	var parts []string
	for _, it := range items {
		parts = append(parts, it.src)
	}
	return strings.Join(parts, ",")
}

// writeLayer writes the items as one uncompressed tar at p and returns the
// number of entries and the regular-file bytes written.
func writeLayer(p string, items []item) (entries int, size int64, err error) {
	f, err := os.Create(p)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	w := &layerWriter{tw: tar.NewWriter(f), dirs: map[string]bool{}}
	for _, it := range items {
		if err := w.add(it); err != nil {
			return 0, 0, err
		}
	}
	if err := w.tw.Close(); err != nil {
		return 0, 0, err
	}
	return w.entries, w.size, f.Close()
}

type layerWriter struct {
	tw      *tar.Writer
	dirs    map[string]bool // directories written
	entries int
	size    int64
}

func (w *layerWriter) add(it item) error {
	used := int64(0)
	return filepath.WalkDir(it.src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			return nil // vanished
		}
		rel, err := filepath.Rel(it.src, p)
		if err != nil {
			return err
		}
		dst := path.Join(it.dst, filepath.ToSlash(rel))
		mode := info.Mode()
		switch {
		case mode.IsDir():
			if mode.Perm()&0o005 != 0o005 {
				return fs.SkipDir // not world-readable: private
			}
			return w.dir(dst, info)
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return nil
			}
			return w.entry(dst, info, target, nil)
		case mode.IsRegular():
			if mode.Perm()&0o004 == 0 {
				return nil // not world-readable: private
			}
			if it.budget > 0 && used+info.Size() > it.budget {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil // unreadable or vanished: leave it out
			}
			used += int64(len(data))
			return w.entry(dst, info, "", data)
		default:
			return nil // devices, sockets, fifos
		}
	})
}

// dir writes the directory at dst and, first, its missing parents.
func (w *layerWriter) dir(dst string, info fs.FileInfo) error {
	if w.dirs[dst] {
		return nil
	}
	if parent := path.Dir(dst); parent != "." {
		if err := w.dir(parent, nil); err != nil {
			return err
		}
	}
	w.dirs[dst] = true
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: dst + "/", Mode: 0o755, ModTime: time.Unix(0, 0)}
	if info != nil {
		hdr.Mode, hdr.ModTime = int64(info.Mode().Perm()), info.ModTime()
	}
	w.entries++
	return w.tw.WriteHeader(hdr)
}

func (w *layerWriter) entry(dst string, info fs.FileInfo, link string, data []byte) error {
	if parent := path.Dir(dst); parent != "." {
		if err := w.dir(parent, nil); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	hdr.Name = dst
	hdr.Size = int64(len(data))
	hdr.Uname, hdr.Gname = "", ""
	if err := w.tw.WriteHeader(hdr); err != nil {
		return err
	}
	w.entries++
	w.size += int64(len(data))
	_, err = w.tw.Write(data)
	return err
}
