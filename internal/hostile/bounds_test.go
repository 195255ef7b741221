package hostile_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"

	"github.com/vigil-scanner/vigil/internal/testutil"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// The bounds a scan of a hostile package database keeps, whatever the
// database holds.
const (
	maxWall  = 60 * time.Second
	rssBound = 1 << 30
	// capped is how many packages vigil reads from one database
	// (ospkg.MaxPackages); a database listing more is read up to there,
	// with a warning.
	capped = 100_000
)

const debianRelease = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"

// bigLayer writes an image of one layer made of entries, which may be
// large: the tar is streamed through gzip, not held twice.
func bigLayer(t *testing.T, entries ...lt.Entry) string {
	t.Helper()
	return writeLayers(t, lt.FromTar(t, lt.Tar(t, entries...)))
}

func dpkgStatus(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Package: pkg%07d\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.%d-1\n"+
			"Maintainer: X <x@example.org>\nDescription: package %d\n a generated package\n\n", i, i%97, i)
	}
	return b.String()
}

func apkInstalled(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "P:pkg%07d\nV:1.%d-r0\nA:x86_64\no:pkg%07d\nF:usr/lib\nR:libpkg%d.so\n\n", i, i%97, i, i)
	}
	return b.String()
}

// rpmHeader is an rpm header blob (as the rpm database stores it) naming
// a package name-1.0-1.x86_64.
func rpmHeader(name string) []byte {
	be := binary.BigEndian
	tags := []struct {
		tag uint32
		val string
	}{{1000, name}, {1001, "1.0"}, {1002, "1"}, {1011, "Example"}, {1022, "x86_64"}}
	var index, data []byte
	for _, tg := range tags {
		index = be.AppendUint32(index, tg.tag)
		index = be.AppendUint32(index, 6) // STRING
		index = be.AppendUint32(index, uint32(len(data)))
		index = be.AppendUint32(index, 1)
		data = append(data, tg.val...)
		data = append(data, 0)
	}
	b := be.AppendUint32(nil, uint32(len(tags)))
	b = be.AppendUint32(b, uint32(len(data)))
	return append(append(b, index...), data...)
}

// rpmSQLite writes an rpmdb.sqlite of n packages with the sqlite3 tool
// and returns it.
func rpmSQLite(t *testing.T, n int) []byte {
	t.Helper()
	sqlite := testutil.RequireTool(t, "sqlite3")
	// Every header is the same but for the ten digits of its name.
	h := rpmHeader("p0000000000")
	i := bytes.Index(h, []byte("p0000000000")) + 1
	db := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	sql := fmt.Sprintf(`CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < %d)
INSERT INTO Packages SELECT n, X'%s' || CAST(printf('%%010d', n) AS BLOB) || X'%s' FROM c;`,
		n, hex.EncodeToString(h[:i]), hex.EncodeToString(h[i+10:]))
	cmd := exec.Command(sqlite, db)
	cmd.Stdin = strings.NewReader(sql)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// zeros is an io.Reader of n zero bytes.
func zeros(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// junkImage writes an image of one layer holding os-release and, at
// name, body followed by junk zero bytes. The layer is compressed as it is
// written: its gigabytes are never held.
func junkImage(t *testing.T, osRelease, name, body string, junk int64) string {
	t.Helper()
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, sum))
	write := func(name string, size int64, r io.Reader) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, r); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/os-release", int64(len(osRelease)), strings.NewReader(osRelease))
	write(name, int64(len(body))+junk, io.MultiReader(strings.NewReader(body), zeros(junk)))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	diffID := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum.Sum(nil))}
	return writeLayers(t, &lt.Layer{Blob: gz.Bytes(), Diff: diffID})
}

// boundedScan runs the vigil binary on img, listing every package as
// JSON, and checks that it stays within the time and rss bytes; it
// returns the report.
func boundedScan(t *testing.T, img string, rss int64) *report {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	r := runBinary(t, dir, "image", "--input", img, "--cache-dir", newCache(t), "--offline", "--quiet",
		"--format", "json", "--list-all-pkgs", "--output", out)
	t.Logf("%v, %d MiB peak RSS", r.wall.Round(time.Millisecond), r.maxRSS>>20)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if r.wall > maxWall || r.maxRSS > rss {
		t.Errorf("the scan took %v and %d MiB; the bounds are %v and %d MiB", r.wall, r.maxRSS>>20, maxWall, rss>>20)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return parseReport(t, string(b))
}

// readerWarnings are r's warnings but the matcher's about OS releases the
// fixture database (Alpine's only) has no data for.
func readerWarnings(r *report) []string {
	return slices.DeleteFunc(r.warnings(), func(w string) bool {
		return strings.Contains(w, ": the vulnerability database has no data for ")
	})
}

// TestLargeDatabases scans package databases of a million entries, which
// are read up to ospkg.MaxPackages with a warning, within the bounds.
func TestLargeDatabases(t *testing.T) {
	const n = 1_000_000
	tests := []struct {
		name    string
		image   func(t *testing.T) string
		first   string // the first package, "name version"
		warning string
	}{
		{"dpkg", func(t *testing.T) string {
			return bigLayer(t, lt.Entry{Name: "etc/os-release", Body: debianRelease}, lt.Entry{Name: "var/lib/dpkg/status", Body: dpkgStatus(n)})
		}, "pkg0000000 1.0-1", "layer 0 var/lib/dpkg/status: dpkg: database read in part"},
		{"apk", func(t *testing.T) string {
			return bigLayer(t, lt.Entry{Name: "etc/os-release", Body: osRelease}, lt.Entry{Name: "lib/apk/db/installed", Body: apkInstalled(n)})
		}, "pkg0000000 1.0-r0", "layer 0 lib/apk/db/installed: apk: database read in part"},
		{"rpm sqlite", func(t *testing.T) string {
			return bigLayer(t, lt.Entry{Name: "etc/os-release", Body: "ID=rhel\nVERSION_ID=9.2\n"},
				lt.Entry{Name: "var/lib/rpm/rpmdb.sqlite", Body: string(rpmSQLite(t, n))})
		}, "p0000000001 1.0-1", "layer 0 var/lib/rpm/rpmdb.sqlite: rpm: database read in part"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := boundedScan(t, tc.image(t), rssBound)
			pkgs := r.packages()
			if len(pkgs) != capped || pkgs[0] != tc.first {
				t.Errorf("%d packages, the first %q; want %d, the first %q", len(pkgs), pkgs[0], capped, tc.first)
			}
			if ws := readerWarnings(r); len(ws) != 1 || !strings.HasPrefix(ws[0], tc.warning) || !strings.Contains(ws[0], "more than 100000 packages") {
				t.Errorf("warnings = %q, want %q", ws, tc.warning)
			}
		})
	}
}

// TestJunk: databases followed by gigabytes of junk, or holding one line
// of 100 MiB, keep the packages read before it, with warnings naming the
// layer and the file, within the bounds.
func TestJunk(t *testing.T) {
	valid := dpkgStatus(3)
	t.Run("dpkg status with 2 GiB of trailing junk", func(t *testing.T) {
		// The first 512 MiB of the file (layerfs.DefaultMaxFileSize)
		// are kept, in a buffer that grows as they arrive: half as much
		// again at its last step.
		r := boundedScan(t, junkImage(t, debianRelease, "var/lib/dpkg/status", valid, 2<<30), 3*rssBound/2)
		if got := len(r.packages()); got != 3 {
			t.Errorf("%d packages, want the 3 before the junk", got)
		}
		ws := readerWarnings(r)
		if len(ws) != 2 || !strings.Contains(ws[0], "layer 0 var/lib/dpkg/status: ") || !strings.Contains(ws[0], "file limit") ||
			!strings.HasPrefix(ws[1], "layer 0 var/lib/dpkg/status: dpkg: database read in part") {
			t.Errorf("warnings = %q, want the layer's cut and the reader's", ws)
		}
	})
	t.Run("apk database with a line of 100 MiB", func(t *testing.T) {
		long := "P:x\nV:1\nD:" + strings.Repeat("a", 100<<20) + "\n\n"
		r := boundedScan(t, bigLayer(t, lt.Entry{Name: "etc/os-release", Body: osRelease},
			lt.Entry{Name: "lib/apk/db/installed", Body: apkDB + long + apkInstalled(2)}), rssBound)
		if got, want := r.packages(), []string{"libssl3 3.1.4-r1", "musl 1.2.4_git20230717-r4"}; !slices.Equal(got, want) {
			t.Errorf("packages = %q, want %q", got, want)
		}
		if ws := r.warnings(); len(ws) != 1 || !strings.Contains(ws[0], "apk: database read in part") || !strings.Contains(ws[0], "token too long") {
			t.Errorf("warnings = %q", ws)
		}
	})
}
