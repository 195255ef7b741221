package e2e_test

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scanner/vigil/internal/testutil"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// entryImage writes a docker-save tarball of layers made of any kind of
// tar entry.
func entryImage(t *testing.T, layers ...[]lt.Entry) string {
	t.Helper()
	var ls []v1.Layer
	for _, es := range layers {
		ls = append(ls, lt.NewLayer(t, es...))
	}
	p := filepath.Join(t.TempDir(), "image.tar")
	tag, err := name.NewTag("example.com/e2e/odd:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(p, tag, lt.Image(t, ls)); err != nil {
		t.Fatal(err)
	}
	return p
}

// lodash is an installed npm package with two findings in the fixture
// database.
var lodash = lt.Entry{Name: "srv/app/node_modules/lodash/package.json", Body: `{"name": "lodash", "version": "4.17.20"}`}

// TestOSDatabaseNotAFile: a device, a fifo, a directory or a hard link to
// nothing where an OS package database belongs fails the scan (exit 2)
// naming the file, as a database that cannot be read does; it is never an
// image without OS packages. --skip-files leaves it out, and with
// --pkg-types library it is not part of the scan: the language packages
// are scanned, without a warning about it.
func TestOSDatabaseNotAFile(t *testing.T) {
	deb := lt.Entry{Name: "etc/os-release", Body: debianOSRelease}
	alp := lt.Entry{Name: "etc/os-release", Body: alpineOSRelease}
	rhel := lt.Entry{Name: "etc/os-release", Body: rhelOSRelease}
	bdb, err := os.ReadFile("../../catalog/rpm/testdata/Packages")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		layers [][]lt.Entry
		db     string // the path --skip-files leaves out
		want   string // the error
	}{
		{"dpkg status a fifo", [][]lt.Entry{{deb, {Name: "var/lib/dpkg/status", Body: dpkgStatus}}, {{Name: "var/lib/dpkg/status", Type: tar.TypeFifo}, lodash}},
			"var/lib/dpkg/status", "dpkg: var/lib/dpkg/status: exists but cannot be read: fifo where a regular file is expected"},
		{"dpkg status a character device", [][]lt.Entry{{deb, {Name: "var/lib/dpkg/status", Type: tar.TypeChar}, lodash}},
			"var/lib/dpkg/status", "dpkg: var/lib/dpkg/status: exists but cannot be read: character device where a regular file is expected"},
		{"dpkg status a directory", [][]lt.Entry{{deb, {Name: "var/lib/dpkg/status/"}, lodash}},
			"var/lib/dpkg/status", "dpkg: var/lib/dpkg/status: exists but cannot be read: directory where a regular file is expected"},
		{"a file of dpkg status.d a fifo", [][]lt.Entry{{deb, {Name: "var/lib/dpkg/status.d/base", Body: dpkgStatus},
			{Name: "var/lib/dpkg/status.d/libssl3", Type: tar.TypeFifo}, lodash}},
			"var/lib/dpkg/status.d/libssl3", "dpkg: var/lib/dpkg/status.d/libssl3: exists but cannot be read: fifo"},
		{"apk database a block device", [][]lt.Entry{{alp, {Name: "lib/apk/db/installed", Type: tar.TypeBlock}, lodash}},
			"lib/apk/db/installed", "apk: lib/apk/db/installed: exists but cannot be read: block device where a regular file is expected"},
		{"apk database a hard link to nothing", [][]lt.Entry{{alp, lodash}, {{Name: "lib/apk/db/installed", Type: tar.TypeLink, Linkname: "tmp/gone"}}},
			"lib/apk/db/installed", `apk: lib/apk/db/installed: exists but cannot be read: hard link to "tmp/gone", which no lower layer holds`},
		{"rpmdb.sqlite a fifo beside a readable Packages", [][]lt.Entry{{rhel, {Name: "usr/lib/sysimage/rpm/rpmdb.sqlite", Type: tar.TypeFifo},
			{Name: "var/lib/rpm/Packages", Body: string(bdb)}, lodash}},
			"usr/lib/sysimage/rpm/rpmdb.sqlite", "rpm: usr/lib/sysimage/rpm/rpmdb.sqlite: exists but cannot be read: fifo"},
		{"Packages.db a directory", [][]lt.Entry{{rhel, {Name: "var/lib/rpm/Packages.db/"}, lodash}},
			"var/lib/rpm/Packages.db", "rpm: var/lib/rpm/Packages.db: exists but cannot be read: directory"},
		{"dpkg status a symbolic link loop", [][]lt.Entry{{deb, {Name: "var/lib/dpkg/status", Type: tar.TypeSymlink, Linkname: "status"}, lodash}},
			"var/lib/dpkg/status", "dpkg: open var/lib/dpkg/status: too many levels of symbolic links"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := entryImage(t, tc.layers...)
			base := []string{"image", "--input", img, "--cache-dir", fx.cache, "--offline", "--quiet"}
			for _, extra := range [][]string{{"--scanners", "none"}, {"--format", "json"}, {"--pkg-types", "os"}} {
				code, stdout, stderr := vigil(t, append(base, extra...)...)
				if code != 2 || !strings.HasPrefix(stderr, "vigil: ") || !strings.Contains(stderr, tc.want) || stdout != "" {
					t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", extra, code, stdout, stderr, tc.want)
				}
			}
			// Left out, or not asked for: the scan goes on, complete.
			for _, extra := range [][]string{{"--skip-files", tc.db}, {"--pkg-types", "library"}} {
				code, stdout, stderr := vigil(t, append(base, append(extra, "--strict", "--format", "json", "--exit-code", "1")...)...)
				if code != 1 || stderr != "" {
					t.Errorf("%v: exit %d, stderr %q; want 1 (the lodash findings) and no warning", extra, code, stderr)
				}
				if rows := findings(t, stdout); len(rows) == 0 || !strings.Contains(strings.Join(rows, "\n"), "lodash") {
					t.Errorf("%v: findings %q, want lodash's", extra, rows)
				}
			}
		})
	}
}

// TestRootfsDatabaseDenied: under vigil rootfs, a status file, or a
// directory above it, that the scan is not allowed to read fails the scan
// naming it; a denied directory elsewhere is a warning.
func TestRootfsDatabaseDenied(t *testing.T) {
	root := t.TempDir()
	testutil.Readable(t, root)
	for name, body := range map[string]string{
		"etc/os-release":      debianOSRelease,
		"var/lib/dpkg/status": dpkgStatus,
		"srv/private/x":       "",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cache := filepath.Join(root, "..", "cache")
	if err := os.MkdirAll(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	scan := func(deny ...string) (int, string, string) {
		var code int
		var stdout, stderr string
		paths := make([]string, len(deny))
		for i, d := range deny {
			paths[i] = filepath.Join(root, d)
		}
		testutil.Unreadable(t, func() {
			code, stdout, stderr = vigil(t, "rootfs", root, "--cache-dir", cache, "--scanners", "none", "--quiet", "--format", "json", "--list-all-pkgs")
		}, paths...)
		return code, stdout, stderr
	}
	for _, deny := range []string{"var/lib/dpkg/status", "var/lib/dpkg", "var"} {
		code, stdout, stderr := scan(deny)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "vigil: dpkg: var/lib/dpkg/status: ") || !strings.Contains(stderr, "permission denied") {
			t.Errorf("%s denied: exit %d, stdout %q, stderr %q; want 2 naming the status file", deny, code, stdout, stderr)
		}
	}
	code, stdout, stderr := scan("srv/private")
	if code != 0 || !strings.Contains(stdout, `"name": "base-files"`) || !strings.Contains(stderr, "scan incomplete: 1 warning") || !strings.Contains(stderr, "srv/private") {
		t.Errorf("srv/private denied: exit %d, stderr %q; want 0, the packages and a warning", code, stderr)
	}
}

// TestPkgTypesOSIgnoresLockfiles: with --pkg-types os, a malformed
// lockfile or installed manifest is not part of the scan: no warning,
// and --strict passes.
func TestPkgTypesOSIgnoresLockfiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(`{"lockfileVersion": 3, "packages": {`), 0o644); err != nil {
		t.Fatal(err)
	}
	img := entryImage(t, []lt.Entry{{Name: "etc/os-release", Body: debianOSRelease}, {Name: "var/lib/dpkg/status", Body: dpkgStatus},
		{Name: "srv/app/node_modules/left-pad/package.json", Body: `{"name": "left-pad", "version": `},
		{Name: "srv/app/node_modules/x/package.json", Type: tar.TypeFifo}})
	for _, args := range [][]string{{"fs", dir}, {"image", "--input", img}} {
		base := append(args, "--cache-dir", fx.cache, "--offline", "--quiet", "--format", "json")
		// Asked for, the lockfile is a warning ...
		if code, _, stderr := vigil(t, append(base, "--strict")...); code != 2 || !strings.Contains(stderr, "scan incomplete") {
			t.Errorf("%s --strict: exit %d, stderr %q; want 2 and a warning", args[0], code, stderr)
		}
		// ... and not asked for, nothing.
		code, stdout, stderr := vigil(t, append(base, "--strict", "--pkg-types", "os")...)
		if code != 0 || stderr != "" || strings.Contains(stdout, `"warnings"`) {
			t.Errorf("%s --pkg-types os: exit %d, stderr %q\n%s", args[0], code, stderr, stdout)
		}
	}
}
