// Package langtest helps test the language catalogers: it runs a cataloger
// the way the layer walk does (Wants, then Catalog on the wanted files),
// collects warnings, and compares results with golden JSON files that the
// -update flag rewrites.
package langtest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Logs collects log records as text lines.
type Logs struct {
	mu    sync.Mutex
	lines []string
}

// Handler returns a slog handler writing into l.
func (l *Logs) Handler() slog.Handler { return slog.NewTextHandler(logWriter{l}, nil) }

// Lines returns the logged lines.
func (l *Logs) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Contains reports whether any logged line contains every one of subs.
func (l *Logs) Contains(subs ...string) bool {
	for _, line := range l.Lines() {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			return true
		}
	}
	return false
}

type logWriter struct{ l *Logs }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	w.l.lines = append(w.l.lines, strings.TrimSpace(string(p)))
	return len(p), nil
}

// Run filters src through c.Wants and catalogs the wanted files, returning
// the results and the warnings logged.
func Run(t testing.TB, c catalog.Cataloger, src fs.FS, env catalog.Env) ([]inventory.Result, *Logs) {
	t.Helper()
	wanted := fstest.MapFS{}
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !c.Wants(p, info.Mode(), info.Size()) {
			return nil
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		wanted[p] = &fstest.MapFile{Data: b, Mode: info.Mode()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &Logs{}
	env.Logger = slog.New(logs.Handler())
	res, err := c.Catalog(context.Background(), wanted, env)
	if err != nil {
		t.Fatalf("Catalog: %v", err)
	}
	return res, logs
}

// Dir returns testdata/dir as an fs.FS.
func Dir(dir string) fs.FS { return os.DirFS(filepath.Join("testdata", dir)) }

// Golden compares got, as indented JSON, with testdata/golden/name.json.
func Golden(t testing.TB, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from golden file (run with -update to refresh):\n%s", path, b)
	}
}

// Flags renders a package's place in its dependency graph as the tests
// write it: "root", "dev", "indirect" and "origin=…", those that apply,
// separated by spaces.
func Flags(p inventory.Package) string {
	var f []string
	if p.Root {
		f = append(f, "root")
	}
	if p.Dev {
		f = append(f, "dev")
	}
	if p.Indirect {
		f = append(f, "indirect")
	}
	if p.Origin != "" {
		f = append(f, "origin="+p.Origin)
	}
	return strings.Join(f, " ")
}

// Line is a package's ID followed by its Flags.
func Line(p inventory.Package) string { return strings.TrimSpace(p.ID + " " + Flags(p)) }

// Find returns the package named name in rs, or nil.
func Find(rs []inventory.Result, name string) *inventory.Package {
	for i := range rs {
		for j := range rs[i].Packages {
			if rs[i].Packages[j].Name == name {
				return &rs[i].Packages[j]
			}
		}
	}
	return nil
}

// FuzzFile fuzzes c with the content of one file at path name, the other
// files of fixed beside it (a manifest a lockfile is read with, say). The
// seeds are the files matching seedGlob under testdata (a
// filepath.Glob pattern relative to the package directory), and each
// crash the fuzzer found before (testdata/fuzz/). Every input must be
// cataloged without a panic or an error, and into a closed graph: each
// DependsOn names a package of the same result, and no root is Dev or
// Indirect.
func FuzzFile(f *testing.F, c catalog.Cataloger, name string, fixed fstest.MapFS, seedGlobs ...string) {
	f.Helper()
	for _, g := range seedGlobs {
		files, err := filepath.Glob(g)
		if err != nil {
			f.Fatal(err)
		}
		if len(files) == 0 {
			f.Fatalf("no seed matches %s", g)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	env := catalog.Env{Logger: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{}
		for k, v := range fixed {
			fsys[k] = v
		}
		fsys[name] = &fstest.MapFile{Data: data, Mode: 0o644}
		res, err := c.Catalog(context.Background(), fsys, env)
		if err != nil {
			t.Fatalf("Catalog: %v", err)
		}
		CheckGraph(t, res)
	})
}

// CheckGraph fails t when a result's graph is not closed (a DependsOn
// names no package of the result) or a root is marked Dev or Indirect.
func CheckGraph(t testing.TB, res []inventory.Result) {
	t.Helper()
	for _, r := range res {
		ids := make(map[string]bool, len(r.Packages))
		for _, p := range r.Packages {
			ids[p.ID] = true
		}
		for _, p := range r.Packages {
			if p.Root && (p.Dev || p.Indirect) {
				t.Errorf("%s: root %s marked dev=%v indirect=%v", r.Target, p.ID, p.Dev, p.Indirect)
			}
			for _, d := range p.DependsOn {
				if !ids[d] {
					t.Errorf("%s: %s depends on %s, which is not in the result", r.Target, p.ID, d)
				}
			}
		}
	}
}

// Read returns the content of the file at path, failing t when it cannot.
func Read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
