package apk

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/ospkg"
	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files")

func env(os *inventory.OS, w io.Writer) catalog.Env {
	return catalog.Env{OS: os, Logger: slog.New(slog.NewTextHandler(w, nil))}
}

func TestWants(t *testing.T) {
	c := New()
	for _, tc := range []struct {
		path string
		mode os.FileMode
		want bool
	}{
		{"lib/apk/db/installed", 0o644, true},
		{"lib/apk/db/installed", os.ModeDir | 0o755, false},
		{"lib/apk/db/triggers", 0o644, false},
		{"/lib/apk/db/installed", 0o644, false},
		{"usr/lib/apk/db/installed", 0o644, false},
	} {
		if got := c.Wants(tc.path, tc.mode, 10); got != tc.want {
			t.Errorf("Wants(%q, %v) = %v, want %v", tc.path, tc.mode, got, tc.want)
		}
	}
}

func TestCatalogGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/installed")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{DBPath: {Data: data}}
	var logs bytes.Buffer
	res, err := New().Catalog(context.Background(), fsys, env(&inventory.OS{Family: "alpine", Name: "3.10.4"}, &logs))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "path=lib/apk/db/installed err=\"line 52: record without name or version") {
		t.Errorf("want a warning naming the file and line of the broken record, got:\n%s", logs.String())
	}
	compareGolden(t, "testdata/installed.golden.json", res)
}

func compareGolden(t *testing.T, golden string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to refresh):\n%s", golden, got)
	}
}

func TestCatalogNoOS(t *testing.T) {
	fsys := fstest.MapFS{DBPath: {Data: []byte("P:musl\nV:1.2.4-r2\nA:aarch64\n")}}
	res, err := New().Catalog(context.Background(), fsys, env(nil, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Type != "apk" || res[0].Class != inventory.ClassOSPkgs || len(res[0].Packages) != 1 {
		t.Fatalf("unexpected result %+v", res)
	}
	p := res[0].Packages[0]
	if want := "pkg:apk/alpine/musl@1.2.4-r2?arch=aarch64"; p.Purl != want {
		t.Errorf("purl = %q, want %q", p.Purl, want)
	}
	if p.ID != "musl@1.2.4-r2" || p.SourceName != "" {
		t.Errorf("unexpected package %+v", p)
	}
}

func TestCatalogAbsent(t *testing.T) {
	res, err := New().Catalog(context.Background(), fstest.MapFS{}, env(nil, io.Discard))
	if err != nil || res != nil {
		t.Fatalf("got %v, %v; want nothing", res, err)
	}
}

// TestDamaged checks that a database read in part keeps what was read
// with one warning naming the file, and that one of which nothing could be
// read is an error naming the file.
func TestDamaged(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		pkgs     int
		err      string // the error must contain it; "" means none
		warn     string // the one warning must contain it; "" means none
	}{
		{"empty", "", 0, "", ""},
		{"huge line alone", "P:x\nV:1-r0\nT:" + strings.Repeat("a", maxLine+1) + "\n", 0, "apk: installed: nothing could be read: line 3: ", ""},
		{"huge line after a record", "P:a\nV:1-r0\n\nP:x\nV:1-r0\nT:" + strings.Repeat("a", maxLine+1) + "\n", 1, "", "apk: database read in part (1 problems); the 1 entries read are kept"},
		{"garbage", "\x00\x01\xff garbage\nmore\n", 0, "installed: nothing could be read: line 1: not a \"K:value\" line; line 2", ""},
		{"truncated record", "P:a\nV:1-r0\no:a\n\nP:b\n", 1, "", "line 5: record without name or version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var warnings []inventory.Warning
			env := catalog.Env{Warned: func(w inventory.Warning) { warnings = append(warnings, w) }}
			pkgs, err := Parse(context.Background(), strings.NewReader(tc.in), "installed", env)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("err = %v, want one containing %q", err, tc.err)
			}
			if len(pkgs) != tc.pkgs {
				t.Errorf("%d packages, want %d", len(pkgs), tc.pkgs)
			}
			if tc.warn == "" && len(warnings) > 0 || tc.warn != "" && (len(warnings) != 1 || !strings.Contains(warnings[0].Message, tc.warn) || warnings[0].Path != "installed") {
				t.Errorf("warnings = %+v, want one on installed containing %q", warnings, tc.warn)
			}
		})
	}
}

// TestAlpine310 reads the apk database of a real alpine:3.10.4 image.
func TestAlpine310(t *testing.T) {
	db := installedFromImage(t, testutil.Shared(t, "data/images/alpine-310.tar.gz"))
	fsys := fstest.MapFS{DBPath: {Data: db}}
	var logs bytes.Buffer
	res, err := New().Catalog(context.Background(), fsys, env(&inventory.OS{Family: "alpine", Name: "3.10.4"}, &logs))
	if err != nil {
		t.Fatal(err)
	}
	if logs.Len() > 0 {
		t.Errorf("unexpected warnings: %s", logs.String())
	}
	pkgs := res[0].Packages
	if len(pkgs) != 14 {
		t.Fatalf("got %d packages, want 14", len(pkgs))
	}
	byName := map[string]inventory.Package{}
	for _, p := range pkgs {
		byName[p.Name] = p
	}
	for _, want := range []inventory.Package{
		{Name: "libcrypto1.1", Version: "1.1.1d-r2", SourceName: "openssl", SourceVersion: "1.1.1d-r2",
			Purl: "pkg:apk/alpine/libcrypto1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4"},
		{Name: "musl", Version: "1.1.22-r3", SourceName: "musl", SourceVersion: "1.1.22-r3",
			Purl: "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4"},
		{Name: "busybox", Version: "1.30.1-r3", SourceName: "busybox", SourceVersion: "1.30.1-r3",
			Purl: "pkg:apk/alpine/busybox@1.30.1-r3?arch=x86_64&distro=3.10.4"},
	} {
		got, ok := byName[want.Name]
		if !ok {
			t.Errorf("package %s missing", want.Name)
			continue
		}
		if got.Version != want.Version || got.SourceName != want.SourceName ||
			got.SourceVersion != want.SourceVersion || got.Purl != want.Purl || got.Arch != "x86_64" {
			t.Errorf("%s = %+v, want %+v", want.Name, got, want)
		}
		if len(got.InstalledFiles) == 0 || strings.HasPrefix(got.InstalledFiles[0], "/") {
			t.Errorf("%s installed files = %v", want.Name, got.InstalledFiles)
		}
	}
}

// installedFromImage returns lib/apk/db/installed from the first layer of a
// gzip'd docker-save archive that holds it.
func installedFromImage(t *testing.T, archive string) []byte {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	outer := tar.NewReader(zr)
	for {
		h, err := outer.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if path.Base(h.Name) != "layer.tar" {
			continue
		}
		inner := tar.NewReader(outer)
		for {
			ih, err := inner.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimPrefix(path.Clean(ih.Name), "/") == DBPath {
				b, err := io.ReadAll(inner)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
	}
	t.Fatalf("%s: no %s in any layer", filepath.Base(archive), DBPath)
	return nil
}

func BenchmarkApk(b *testing.B) {
	var sb strings.Builder
	for i := range 2000 {
		sb.WriteString("C:Q1abc=\nP:pkg")
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteString("\nV:1.2.3-r4\nA:x86_64\nL:MIT\no:origin\nF:usr/lib\nR:liba.so\nR:libb.so\nF:usr/bin\nR:tool\n\n")
	}
	fsys := fstest.MapFS{DBPath: {Data: []byte(sb.String())}}
	e := env(&inventory.OS{Family: "alpine", Name: "3.19.1"}, io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New().Catalog(context.Background(), fsys, e); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("testdata/installed")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("P:a\r\nV:1-r0\r\nR:orphan\r\nF:\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		pkgs, _ := Parse(context.Background(), bytes.NewReader(in), "installed", catalog.Env{})
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("package without name or version: %+v", p)
			}
		}
	})
}

// TestFileBound: the installed files recorded for one database are
// bounded; the packages are kept, with a warning.
func TestFileBound(t *testing.T) {
	db := "P:a\nV:1-r0\nF:d\n" + strings.Repeat("R:f\n", ospkg.MaxFiles+10) + "\nP:b\nV:2-r0\n\n"
	var warnings []string
	env := catalog.Env{Warned: func(w inventory.Warning) { warnings = append(warnings, w.Message) }}
	pkgs, err := Parse(context.Background(), strings.NewReader(db), "installed", env)
	if err != nil || len(pkgs) != 2 || len(pkgs[0].InstalledFiles) != ospkg.MaxFiles {
		t.Fatalf("Parse = %d packages, %v", len(pkgs), err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], ospkg.ErrTooManyFiles.Error()) {
		t.Errorf("warnings = %q", warnings)
	}
}
