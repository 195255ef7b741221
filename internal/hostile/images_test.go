package hostile_test

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// sentinel is a directory outside every image, holding an Alpine database
// whose one package no image has: a scan that reports it read the host.
func sentinel(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "host")
	for name, body := range map[string]string{
		"lib/apk/db/installed": "P:host-only\nV:1.0-r0\nA:x86_64\n\n",
		"etc/os-release":       "ID=host\nVERSION_ID=1\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// snapshot lists the files under dir, with their sizes and times, except
// those under skip.
func snapshot(t *testing.T, dir, skip string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return fs.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %v %d %v", p, info.Mode(), info.Size(), info.ModTime()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// scan runs `vigil image --input img` offline with a home, a temporary
// directory and a cache of its own, gating on any finding (--exit-code 1),
// and checks that nothing was written outside the cache: not in the home,
// not beside the image, not in the temporary directory.
func scan(t *testing.T, img string, extra ...string) (int, *report, string) {
	t.Helper()
	home := t.TempDir()
	tmp := filepath.Join(home, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	cache := newCache(t)
	t.Setenv("HOME", home)
	t.Setenv("TMPDIR", tmp)
	t.Setenv("VIGIL_CACHE_DIR", "")
	homeBefore, imgBefore := snapshot(t, home, ""), snapshot(t, filepath.Dir(img), "")
	args := append([]string{"image", "--input", img, "--cache-dir", cache, "--offline", "--quiet",
		"--format", "json", "--list-all-pkgs", "--exit-code", "1"}, extra...)
	code, stdout, stderr := vigil(t, args...)
	if after := snapshot(t, home, ""); !slices.Equal(after, homeBefore) {
		t.Errorf("the scan wrote outside its cache, in the home directory:\n%s", strings.Join(after, "\n"))
	}
	if after := snapshot(t, filepath.Dir(img), ""); !slices.Equal(after, imgBefore) {
		t.Errorf("the scan wrote beside the image:\n%s", strings.Join(after, "\n"))
	}
	if code == 2 {
		return code, nil, stderr
	}
	return code, parseReport(t, stdout), stderr
}

func TestHostileImages(t *testing.T) {
	host := sentinel(t)
	tests := []struct {
		name     string
		layers   [][]lt.Entry
		code     int      // with --exit-code 1
		findings []string // nil: none
		packages []string // checked when set
		warnings []string // substrings, one per warning, in order
		stderr   string   // with code 2: the error must contain it
	}{
		{
			name:     "plain",
			layers:   [][]lt.Entry{alpineBase()},
			code:     1,
			findings: []string{apkFinding},
		},
		{
			// Each link climbs above the root; in a container each
			// stops at "/".
			name: "links climbing above the root, chained across layers",
			layers: [][]lt.Entry{
				{{Name: "etc/os-release", Type: tar.TypeSymlink, Linkname: "/../../../x/os-release"},
					{Name: "lib/apk/db/installed", Body: apkDB}},
				{{Name: "x", Type: tar.TypeSymlink, Linkname: "../../../../usr/lib"}},
				{{Name: "usr/lib/os-release", Body: osRelease}},
			},
			code:     1,
			findings: []string{apkFinding},
		},
		{
			name: "links into the host",
			layers: [][]lt.Entry{{
				{Name: "etc/os-release", Body: osRelease},
				{Name: "lib/apk/db/installed", Type: tar.TypeSymlink, Linkname: host + "/lib/apk/db/installed"},
				{Name: "lib/apk/db2", Type: tar.TypeSymlink, Linkname: host},
				{Name: "usr/lib/os-release", Type: tar.TypeSymlink, Linkname: "../../../../../../" + host + "/etc/os-release"},
			}},
			code: 0,
		},
		{
			name: "entries named to escape the root",
			layers: [][]lt.Entry{{
				{Name: "/etc/os-release", Body: osRelease},
				{Name: "../../../../lib/apk/db/installed", Body: apkDB},
				{Name: "../../../../../../" + host + "/pwned", Body: "x"},
			}},
			code:     1,
			findings: []string{apkFinding},
			warnings: []string{
				`layer 0 /etc/os-release: absolute entry name; read as "etc/os-release"`,
				`layer 0 ../../../../lib/apk/db/installed: entry name climbs above the root; read as "lib/apk/db/installed"`,
				`: entry name climbs above the root; read as "` + strings.TrimPrefix(host, "/") + `/pwned"`,
			},
		},
		{
			name: "database behind a hard link to a file no cataloger wants",
			layers: [][]lt.Entry{{
				{Name: "etc/os-release", Body: osRelease},
				{Name: "tmp/blob", Body: apkDB},
				{Name: "lib/apk/db/installed", Type: tar.TypeLink, Linkname: "tmp/blob"},
			}},
			code:     1,
			findings: []string{apkFinding},
		},
		{
			// Debian's usr/bin/uncompress is a hard link to gunzip, a
			// shell script: no Go or Rust binary reader has a word to
			// say about it.
			name: "hard link to a shell script",
			layers: [][]lt.Entry{append(alpineBase(),
				lt.Entry{Name: "usr/bin/gunzip", Body: "#!/bin/sh\nexec gzip -d \"$@\"\n", Mode: 0o755},
				lt.Entry{Name: "usr/bin/uncompress", Type: tar.TypeLink, Linkname: "usr/bin/gunzip", Mode: 0o755},
			)},
			code:     1,
			findings: []string{apkFinding},
		},
		{
			name: "hard links to nothing and out of the root",
			layers: [][]lt.Entry{
				alpineBase(),
				{{Name: "tmp/blob", Body: apkDB},
					{Name: "lib/apk/db/installed", Type: tar.TypeLink, Linkname: "../../../../tmp/blob"},
					{Name: "usr/bin/x", Type: tar.TypeLink, Linkname: "nowhere"}},
			},
			code:     1,
			findings: []string{apkFinding},
			warnings: []string{
				`layer 1 lib/apk/db/installed: hard link target "../../../../tmp/blob": entry name climbs above the root; read as "tmp/blob"`,
				`layer 1 usr/bin/x: hard link to "nowhere", which no lower layer holds; dropped`,
			},
		},
		{
			name: "whiteouts that name nothing",
			layers: [][]lt.Entry{
				alpineBase(),
				{{Name: ".wh."}, {Name: "lib/apk/db/.wh.."}, {Name: "lib/.wh..."}},
			},
			code:     1,
			findings: []string{apkFinding},
			warnings: []string{
				"layer 1 .wh.: whiteout that names no file; ignored",
				"layer 1 lib/apk/db/.wh..: whiteout that names no file; ignored",
				"layer 1 lib/.wh...: whiteout that names no file; ignored",
			},
		},
		{
			// The database exists but cannot be read: an error naming
			// it, never an image without packages.
			name: "os-release a character device, the database a fifo",
			layers: [][]lt.Entry{
				alpineBase(),
				{{Name: "etc/os-release", Type: tar.TypeChar}, {Name: "lib/apk/db/installed", Type: tar.TypeFifo}},
			},
			code:   2,
			stderr: "vigil: apk: lib/apk/db/installed: exists but cannot be read: fifo where a regular file is expected",
		},
		{
			name: "os-release a character device",
			layers: [][]lt.Entry{
				alpineBase(),
				{{Name: "etc/os-release", Type: tar.TypeChar}},
			},
			code: 0,
			warnings: []string{
				"layer 1 etc/os-release: character device where a regular file is expected; not read",
				"match: lib/apk/db/installed: the OS release is not detected or not supported; its 2 packages were not matched",
			},
		},
		{
			// The database exists, as a link, but cannot be read: an
			// error naming it, never an image without packages.
			name: "database a symbolic link loop",
			layers: [][]lt.Entry{{
				{Name: "etc/os-release", Body: osRelease},
				{Name: "lib/apk/db/installed", Type: tar.TypeSymlink, Linkname: "../db/installed"},
			}},
			code:   2,
			stderr: "vigil: apk: open lib/apk/db/installed: too many levels of symbolic links",
		},
		{
			name: "database behind a directory link loop",
			layers: [][]lt.Entry{{
				{Name: "etc/os-release", Body: osRelease},
				{Name: "lib/apk/db", Type: tar.TypeSymlink, Linkname: "db2"},
				{Name: "lib/apk/db2", Type: tar.TypeSymlink, Linkname: "/lib/apk/db"},
			}},
			code:   2,
			stderr: `vigil: apk: open lib/apk/db/installed: too many levels of symbolic links at "lib/apk/db`,
		},
		{
			// Layers are read before their links are known: the
			// database is read in a second look at its layer.
			name: "database a link to a file no cataloger wants",
			layers: [][]lt.Entry{{
				{Name: "etc/os-release", Body: osRelease},
				{Name: "tmp/blob", Body: apkDB},
				{Name: "lib/apk/db/installed", Type: tar.TypeSymlink, Linkname: "/tmp/blob"},
			}},
			code:     1,
			findings: []string{apkFinding},
		},
		{
			name: "database behind a directory link, in another layer",
			layers: [][]lt.Entry{
				{{Name: "var/hidden/installed", Body: apkDB}, {Name: "usr/lib/release", Body: osRelease}},
				{{Name: "lib/apk/db", Type: tar.TypeSymlink, Linkname: "../../var/hidden"},
					{Name: "etc", Type: tar.TypeSymlink, Linkname: "/usr/lib/x"},
					{Name: "usr/lib/x/os-release", Type: tar.TypeSymlink, Linkname: "../release"}},
			},
			code:     1,
			findings: []string{apkFinding},
		},
		{
			name: "database a hard link to a file of a lower layer no cataloger wants",
			layers: [][]lt.Entry{
				{{Name: "etc/os-release", Body: osRelease}, {Name: "tmp/blob", Body: apkDB}},
				{{Name: "lib/apk/db/installed", Type: tar.TypeLink, Linkname: "tmp/blob"}},
			},
			code:     1,
			findings: []string{apkFinding},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := writeImage(t, tc.layers...)
			code, r, stderr := scan(t, img)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			if code == 2 {
				if !strings.Contains(stderr, tc.stderr) {
					t.Errorf("stderr %q, want %q", stderr, tc.stderr)
				}
				return
			}
			if got := r.findings(); !slices.Equal(got, tc.findings) {
				t.Errorf("findings = %q, want %q", got, tc.findings)
			}
			for _, p := range r.packages() {
				if strings.HasPrefix(p, "host-only") {
					t.Errorf("a package of the host was read: %s", p)
				}
			}
			if r.Artifact.OS != nil && r.Artifact.OS.Family == "host" {
				t.Errorf("the host's os-release was read")
			}
			got := r.warnings()
			if len(got) != len(tc.warnings) {
				t.Fatalf("warnings:\n got %q\nwant %q", got, tc.warnings)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.warnings[i]) {
					t.Errorf("warning %d = %q, want %q", i, got[i], tc.warnings[i])
				}
			}
			if _, err := os.Stat(host + "/pwned"); err == nil {
				t.Errorf("a layer entry was written to the host")
			}
		})
	}
}

// TestHostileRootfs scans a root filesystem on disk (vigil rootfs): its
// links are resolved inside it, never on the host, and a fifo where the
// database belongs neither blocks the scan nor passes unseen.
func TestHostileRootfs(t *testing.T) {
	host := sentinel(t)
	write := func(root, name, body string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(root, target, name string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		make     func(root string)
		findings []string
		warnings []string
		err      string // with exit code 2
	}{
		{
			name: "links to the host",
			make: func(root string) {
				link(root, host+"/etc/os-release", "etc/os-release")
				link(root, host+"/lib", "lib")
				link(root, "../../../../../../"+host+"/lib/apk/db/installed", "usr/lib/os-release")
			},
		},
		{
			name: "database behind a directory link",
			make: func(root string) {
				write(root, "etc/os-release", osRelease)
				write(root, "srv/db/installed", apkDB)
				link(root, "/../../srv/db", "lib/apk/db")
			},
			findings: []string{apkFinding},
		},
		{
			name: "database a fifo",
			make: func(root string) {
				write(root, "etc/os-release", osRelease)
				if err := os.MkdirAll(filepath.Join(root, "lib/apk/db"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := syscall.Mkfifo(filepath.Join(root, "lib/apk/db/installed"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			// The database exists but cannot be read: an error naming
			// it, never a root without packages.
			err: "vigil: apk: lib/apk/db/installed: exists but cannot be read: fifo where a regular file is expected",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "root")
			tc.make(root)
			code, stdout, stderr := vigil(t, "rootfs", root, "--cache-dir", newCache(t), "--offline", "--quiet",
				"--format", "json", "--list-all-pkgs", "--exit-code", "1")
			wantCode := 0
			switch {
			case tc.err != "":
				wantCode = 2
			case tc.findings != nil:
				wantCode = 1
			}
			if code != wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, wantCode, stderr)
			}
			if tc.err != "" {
				if !strings.Contains(stderr, tc.err) || stdout != "" {
					t.Errorf("stderr %q, stdout %q; want %q and no report", stderr, stdout, tc.err)
				}
				return
			}
			r := parseReport(t, stdout)
			if got := r.findings(); !slices.Equal(got, tc.findings) {
				t.Errorf("findings = %q, want %q", got, tc.findings)
			}
			if slices.ContainsFunc(r.packages(), func(p string) bool { return strings.HasPrefix(p, "host-only") }) ||
				r.Artifact.OS != nil && r.Artifact.OS.Family == "host" {
				t.Errorf("the host was read: packages %q, os %+v", r.packages(), r.Artifact.OS)
			}
			got := r.warnings()
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
}
