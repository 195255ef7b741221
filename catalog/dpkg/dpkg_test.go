package dpkg

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/internal/bounded"
	"github.com/vigil-scanner/vigil/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files")

func env(os *inventory.OS, w io.Writer) catalog.Env {
	return catalog.Env{OS: os, Logger: slog.New(slog.NewTextHandler(w, nil))}
}

// loadTree reads a testdata tree into a MapFS. File names are
// URL-unescaped, so "libssl3%3Aamd64.list" becomes "libssl3:amd64.list"
// (a colon is not allowed in a Go module's file names).
func loadTree(t testing.TB, dir string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name, err := url.PathUnescape(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		m[name] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWants(t *testing.T) {
	c := New()
	for _, tc := range []struct {
		path string
		mode fs.FileMode
		want bool
	}{
		{"var/lib/dpkg/status", 0o644, true},
		{"var/lib/dpkg/status-old", 0o644, false},
		{"var/lib/dpkg/status.d/libc6", 0o644, true},
		{"var/lib/dpkg/status.d/libc6.md5sums", 0o644, true},
		{"var/lib/dpkg/status.d", fs.ModeDir, false},
		{"var/lib/dpkg/status.d/sub/x", 0o644, false},
		{"var/lib/dpkg/info/libssl3:amd64.list", 0o644, true},
		{"var/lib/dpkg/info/tzdata.list", 0o644, true},
		{"var/lib/dpkg/info/tzdata.md5sums", 0o644, false},
		{"var/lib/dpkg/info/tzdata.postinst", 0o644, false},
		{"var/lib/dpkg/info/x/y.list", 0o644, false},
		{"usr/var/lib/dpkg/status", 0o644, false},
	} {
		if got := c.Wants(tc.path, tc.mode, 1); got != tc.want {
			t.Errorf("Wants(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestCatalogGolden(t *testing.T) {
	for _, tc := range []struct {
		tree   string
		os     *inventory.OS
		warned string // a warning that must appear
	}{
		{"debian", &inventory.OS{Family: "debian", Name: "12"}, `path=var/lib/dpkg/status err="line 87: paragraph without Package or Version (package \"noversion\")"`},
		{"distroless", &inventory.OS{Family: "debian", Name: "12"}, ""},
		{"debian", nil, `package \"noversion\"`},
	} {
		name := tc.tree
		if tc.os == nil {
			name += "-noos"
		}
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			res, err := New().Catalog(context.Background(), loadTree(t, "testdata/"+tc.tree), env(tc.os, &logs))
			if err != nil {
				t.Fatal(err)
			}
			if tc.warned != "" && !strings.Contains(logs.String(), tc.warned) {
				t.Errorf("want warning %q, got:\n%s", tc.warned, logs.String())
			}
			if tc.warned == "" && logs.Len() > 0 {
				t.Errorf("unexpected warnings:\n%s", logs.String())
			}
			compareGolden(t, "testdata/"+name+".golden.json", res)
		})
	}
}

func TestSpotChecks(t *testing.T) {
	res, err := New().Catalog(context.Background(), loadTree(t, "testdata/debian"), env(&inventory.OS{Family: "debian", Name: "12"}, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]inventory.Package{}
	for _, p := range res[0].Packages {
		got[p.ID] = p
	}
	if len(got) != 6 {
		t.Errorf("got %d packages, want 6 (installed ones only, unique IDs)", len(got))
	}
	for _, tc := range []struct {
		id, srcName, srcVersion, purl string
	}{
		{"libssl3@3.0.11-1~deb12u2?arch=amd64", "openssl", "3.0.11-1~deb12u2",
			"pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"},
		{"libgcc-s1@12.2.0-14", "gcc-12", "12.2.0-14", "pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12"},
		{"login@1:4.13+dfsg1-1+b1", "shadow", "1:4.13+dfsg1-1",
			"pkg:deb/debian/login@4.13%2Bdfsg1-1%2Bb1?arch=amd64&distro=debian-12&epoch=1"},
		{"tzdata@2024a-0+deb12u1", "tzdata", "2024a-0+deb12u1", "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12"},
	} {
		p, ok := got[tc.id]
		if !ok {
			t.Errorf("%s missing", tc.id)
			continue
		}
		if p.SourceName != tc.srcName || p.SourceVersion != tc.srcVersion || p.Purl != tc.purl {
			t.Errorf("%s: source %s %s purl %s; want %s %s %s", tc.id, p.SourceName, p.SourceVersion, p.Purl,
				tc.srcName, tc.srcVersion, tc.purl)
		}
	}
	if f := got["libssl3@3.0.11-1~deb12u2?arch=i386"].InstalledFiles; len(f) != 1 || f[0] != "usr/lib/i386-linux-gnu/libssl.so.3" {
		t.Errorf("i386 libssl3 files = %v", f)
	}
	if f := got["tzdata@2024a-0+deb12u1"].InstalledFiles; len(f) != 1 || f[0] != "usr/share/zoneinfo/UTC" {
		t.Errorf("tzdata files (CRLF list) = %v", f)
	}
}

func TestCatalogAbsent(t *testing.T) {
	res, err := New().Catalog(context.Background(), fstest.MapFS{}, env(nil, io.Discard))
	if err != nil || res != nil {
		t.Fatalf("got %v, %v; want nothing", res, err)
	}
}

func TestParseEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // name@version per package
	}{
		{"empty", "", nil},
		{"no trailing newline", "Package: a\nVersion: 1", []string{"a@1"}},
		{"many blank lines", "\n\n\nPackage: a\nVersion: 1\n\n\n\nPackage: b\nVersion: 2\n\n", []string{"a@1", "b@2"}},
		{"whitespace-only separator", "Package: a\nVersion: 1\n \t\nPackage: b\nVersion: 2", []string{"a@1", "b@2"}},
		{"hold is installed", "Package: a\nStatus: hold ok installed\nVersion: 1", []string{"a@1"}},
		{"not installed", "Package: a\nStatus: install ok unpacked\nVersion: 1", nil},
		{"only not installed", "Package: a\nStatus: deinstall ok config-files\nVersion: 1\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkgs, err := Parse(context.Background(), strings.NewReader(tc.in), "status", catalog.Env{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pkgs {
				got = append(got, p.Name+"@"+p.Version)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDamaged checks that a status file read in part keeps what was read
// with one warning naming the file, and that a status file (or a file of
// status.d) of which nothing could be read fails the cataloger, naming the
// file.
func TestDamaged(t *testing.T) {
	const good = "Package: a\nStatus: install ok installed\nVersion: 1\n\n"
	long := "Package: x\nDescription: " + strings.Repeat("a", maxLine+1) + "\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		pkgs  int
		err   string // the error must contain it; "" means none
		warn  string // the one warning must contain it; "" means none
	}{
		{"empty status", map[string]string{StatusPath: ""}, 0, "", ""},
		{"garbage status", map[string]string{StatusPath: "\x00\x01\xff\n:\n::::\n"}, 0,
			"dpkg: var/lib/dpkg/status: nothing could be read: line 1: line without a field name; line 1: paragraph without Package or Version", ""},
		{"truncated status", map[string]string{StatusPath: good + "Package: b\nStat"}, 1, "",
			"dpkg: database read in part (2 problems); the 1 entries read are kept: line 6: line without a field name; line 5: paragraph"},
		{"huge line alone", map[string]string{StatusPath: long}, 0, "var/lib/dpkg/status: nothing could be read: line 2: bufio.Scanner: token too long", ""},
		{"huge line after a package", map[string]string{StatusPath: good + long}, 1, "", "token too long; the rest of the file is not read"},
		{"garbage status.d file", map[string]string{StatusDir + "/base": good, StatusDir + "/libc6": "\xff\xfe"}, 0,
			"dpkg: var/lib/dpkg/status.d/libc6: nothing could be read", ""},
		{"status.d with md5sums", map[string]string{StatusDir + "/base": good, StatusDir + "/base.md5sums": "x  etc/x\n"}, 1, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, body := range tc.files {
				fsys[name] = &fstest.MapFile{Data: []byte(body)}
			}
			var warnings []inventory.Warning
			env := catalog.Env{Warned: func(w inventory.Warning) { warnings = append(warnings, w) }}
			res, err := New().Catalog(context.Background(), fsys, env)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("err = %v, want one containing %q", err, tc.err)
			}
			n := 0
			for _, r := range res {
				n += len(r.Packages)
			}
			if n != tc.pkgs {
				t.Errorf("%d packages, want %d", n, tc.pkgs)
			}
			if tc.warn == "" && len(warnings) > 0 || tc.warn != "" && (len(warnings) != 1 || !strings.Contains(warnings[0].String(), tc.warn)) {
				t.Errorf("warnings = %+v, want one containing %q", warnings, tc.warn)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("testdata/debian/var/lib/dpkg/status")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("Package: a\r\nVersion: 1\r\nSource: b (\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		pkgs, _ := Parse(context.Background(), bytes.NewReader(in), "status", catalog.Env{})
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("package without name or version: %+v", p)
			}
		}
	})
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
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs (run with -update to refresh):\n%s", golden, buf.Bytes())
	}
}

// BenchmarkDpkg catalogs a generated status file of 2,000 packages, each
// with a file list.
func BenchmarkDpkg(b *testing.B) {
	fsys := fstest.MapFS{}
	var sb strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&sb, "Package: pkg%d\nStatus: install ok installed\nPriority: optional\nSection: libs\n"+
			"Installed-Size: 123\nMaintainer: Someone <someone@example.org>\nArchitecture: amd64\n"+
			"Source: src%d (1.%d-1)\nVersion: 1:1.%d-1+b1\nDepends: libc6 (>= 2.34)\n"+
			"Description: package %d\n a longer description\n .\n over lines\n\n", i, i/3, i, i, i)
		fsys[fmt.Sprintf("var/lib/dpkg/info/pkg%d.list", i)] = &fstest.MapFile{
			Data: []byte(fmt.Sprintf("/.\n/usr\n/usr/lib\n/usr/lib/pkg%d.so\n/usr/share/doc/pkg%d/copyright\n", i, i)),
		}
	}
	fsys[StatusPath] = &fstest.MapFile{Data: []byte(sb.String())}
	e := env(&inventory.OS{Family: "debian", Name: "12"}, io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		res, err := New().Catalog(context.Background(), fsys, e)
		if err != nil || len(res[0].Packages) != 2000 {
			b.Fatal(err)
		}
	}
}

// TestBoundedStatus: a status file past the size bound keeps the packages
// before the bound, with a warning; one with nothing readable before it
// is an error.
func TestBoundedStatus(t *testing.T) {
	const good = "Package: a\nStatus: install ok installed\nVersion: 1\n\n"
	for _, tc := range []struct {
		name, in string
		left     int64
		pkgs     int
		err      string
		warn     string
	}{
		{"within the bound", good, int64(len(good)), 1, "", ""},
		{"junk past the bound", good + strings.Repeat("junk ", 100), int64(len(good)) + 10, 1, "", "larger than 62 bytes; the rest of the file is not read"},
		{"bound in the first paragraph", good, 10, 0, "nothing could be read: line 2: larger than", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var warnings []inventory.Warning
			env := catalog.Env{Warned: func(w inventory.Warning) { warnings = append(warnings, w) }}
			pkgs, err := Parse(context.Background(), &bounded.Reader{R: strings.NewReader(tc.in), Limit: tc.left}, StatusPath, env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(pkgs) != tc.pkgs {
				t.Errorf("%d packages, want %d", len(pkgs), tc.pkgs)
			}
			if tc.warn == "" && len(warnings) > 0 || tc.warn != "" && (len(warnings) != 1 || !strings.Contains(warnings[0].Message, tc.warn)) {
				t.Errorf("warnings = %+v, want %q", warnings, tc.warn)
			}
		})
	}
}
