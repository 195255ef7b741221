package rpm

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"testing/iotest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files")

var redhat = &inventory.OS{Family: "redhat", Name: "9.2"}

func env(os *inventory.OS, w io.Writer) catalog.Env {
	return catalog.Env{OS: os, Logger: slog.New(slog.NewTextHandler(w, nil))}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeNDB lays out blobs as an ndb Packages.db: header, slot pages,
// then each blob ("BlbS" header, data, zero padding to whole blocks plus
// room for rpm's trailer), following rpm's rpmpkg.c layout. The tests that
// damage a database start from it; testdata/Packages.db is the one rpm's
// own ndb code wrote (see testdata/gen.sh).
func writeNDB(blobs [][]byte) []byte {
	le := binary.LittleEndian
	slotPages := (ndbHeaderSize + len(blobs)*ndbSlotSize + ndbPageSize - 1) / ndbPageSize
	out := make([]byte, slotPages*ndbPageSize)
	le.PutUint32(out[0:], ndbHeaderMagic)
	le.PutUint32(out[4:], 0) // version
	le.PutUint32(out[8:], 1) // generation
	le.PutUint32(out[12:], uint32(slotPages))
	le.PutUint32(out[16:], uint32(len(blobs)+1))
	for off := ndbHeaderSize; off < len(out); off += ndbSlotSize {
		le.PutUint32(out[off:], ndbSlotMagic)
	}
	for i, b := range blobs {
		blkoff := len(out) / ndbBlockSize
		blob := le.AppendUint32(nil, ndbBlobMagic)
		blob = le.AppendUint32(blob, uint32(i+1))
		blob = le.AppendUint32(blob, 1)
		blob = le.AppendUint32(blob, uint32(len(b)))
		blob = append(blob, b...)
		blob = append(blob, make([]byte, 12)...) // trailer room
		for len(blob)%ndbBlockSize != 0 {
			blob = append(blob, 0)
		}
		slot := out[ndbHeaderSize+i*ndbSlotSize:]
		le.PutUint32(slot[4:], uint32(i+1))
		le.PutUint32(slot[8:], uint32(blkoff))
		le.PutUint32(slot[12:], uint32(len(blob)/ndbBlockSize))
		out = append(out, blob...)
	}
	return out
}

// sqliteBlobs returns the header blobs of the real rpmdb.sqlite.
func sqliteBlobs(t testing.TB) [][]byte {
	recs, err := readSQLite(context.Background(), readTestdata(t, "rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	var blobs [][]byte
	for _, r := range recs {
		blobs = append(blobs, r.blob)
	}
	return blobs
}

func TestWants(t *testing.T) {
	c := New()
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"var/lib/rpm/Packages", true},
		{"var/lib/rpm/rpmdb.sqlite", true},
		{"var/lib/rpm/Packages.db", true},
		{"usr/lib/sysimage/rpm/rpmdb.sqlite", true},
		{"usr/lib/sysimage/rpm/Packages.db", true},
		{"usr/lib/sysimage/rpm/Packages", true},
		{"var/lib/rpm/rpmdb.sqlite-wal", false},
		{"var/lib/rpm/Name", false},
		{"var/lib/rpm", false},
	} {
		if got := c.Wants(tc.path, 0o644, 1); got != tc.want {
			t.Errorf("Wants(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

// TestDatabases reads the same three packages from every database format
// and checks them against one golden file.
func TestDatabases(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		data       []byte
	}{
		{"sqlite", "var/lib/rpm/rpmdb.sqlite", readTestdata(t, "rpmdb.sqlite")},
		{"sqlite sysimage", "usr/lib/sysimage/rpm/rpmdb.sqlite", readTestdata(t, "rpmdb.sqlite")},
		{"bdb little-endian", "var/lib/rpm/Packages", readTestdata(t, "Packages")},
		{"bdb big-endian overflow", "var/lib/rpm/Packages", readTestdata(t, "Packages.be512")},
		{"bdb inline values", "var/lib/rpm/Packages", readTestdata(t, "Packages.le16k")},
		{"ndb", "usr/lib/sysimage/rpm/Packages.db", readTestdata(t, "Packages.db")},
		{"ndb var", "var/lib/rpm/Packages.db", readTestdata(t, "Packages.db")},
		{"ndb in code", "usr/lib/sysimage/rpm/Packages.db", writeNDB(sqliteBlobs(t))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			res, err := New().Catalog(context.Background(), fstest.MapFS{tc.path: {Data: tc.data}}, env(redhat, &logs))
			if err != nil {
				t.Fatal(err)
			}
			if logs.Len() > 0 {
				t.Errorf("unexpected warnings:\n%s", logs.String())
			}
			if len(res) != 1 || res[0].Target != tc.path || res[0].Type != "redhat" || res[0].Class != inventory.ClassOSPkgs {
				t.Fatalf("unexpected result %+v", res)
			}
			compareGolden(t, "testdata/packages.golden.json", res[0].Packages)
		})
	}
}

// TestPreference checks that the database rpm uses is the one read, and
// that when it cannot be read the scan fails naming it rather than reading
// a leftover database of an older format in its place.
func TestPreference(t *testing.T) {
	sqlite, bdb := readTestdata(t, "rpmdb.sqlite"), readTestdata(t, "Packages")
	for _, tc := range []struct {
		name   string
		fsys   fstest.MapFS
		target string
		err    string
	}{
		{"sqlite over bdb", fstest.MapFS{"var/lib/rpm/rpmdb.sqlite": {Data: sqlite}, "var/lib/rpm/Packages": {Data: bdb}},
			"var/lib/rpm/rpmdb.sqlite", ""},
		{"truncated sqlite", fstest.MapFS{"var/lib/rpm/rpmdb.sqlite": {Data: sqlite[:4096]}, "var/lib/rpm/Packages": {Data: bdb}},
			"", "rpm: var/lib/rpm/rpmdb.sqlite: corrupt rpm database: database disk image is malformed"},
		{"not sqlite at all", fstest.MapFS{"var/lib/rpm/rpmdb.sqlite": {Data: []byte("hello")}},
			"", "rpm: var/lib/rpm/rpmdb.sqlite: corrupt rpm database: not an SQLite database"},
		{"empty bdb", fstest.MapFS{"var/lib/rpm/Packages": {Data: nil}},
			"", "rpm: var/lib/rpm/Packages: corrupt rpm database: 0 bytes"},
		{"bdb cut to its metadata page", fstest.MapFS{"var/lib/rpm/Packages": {Data: bdb[:4096]}},
			"", "rpm: var/lib/rpm/Packages: nothing could be read: corrupt rpm database: truncated: 1 pages, the database has 6"},
		{"ndb of garbage", fstest.MapFS{"usr/lib/sysimage/rpm/Packages.db": {Data: bytes.Repeat([]byte{0xff}, 8192)}},
			"", "rpm: usr/lib/sysimage/rpm/Packages.db: corrupt rpm database: not an ndb Packages.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := New().Catalog(context.Background(), tc.fsys, env(redhat, io.Discard))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 || res[0].Target != tc.target {
				t.Errorf("results = %+v, want one of %s", res, tc.target)
			}
		})
	}
}

// TestRecords checks gpg-pubkey skipping and that a corrupt header is a
// warning naming the database and the record.
func TestRecords(t *testing.T) {
	gpg := buildHeader(tv{tagName, "gpg-pubkey"}, tv{tagVersion, "fd431d51"}, tv{tagRelease, "4ae0493b"})
	bad := opensslHeader()[:100]
	db := writeNDB([][]byte{opensslHeader(), gpg, bad})
	var warnings []inventory.Warning
	e := env(redhat, io.Discard)
	e.Warned = func(w inventory.Warning) { warnings = append(warnings, w) }
	res, err := New().Catalog(context.Background(), fstest.MapFS{"var/lib/rpm/Packages.db": {Data: db}}, e)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := res[0].Packages
	if len(pkgs) != 1 || pkgs[0].Name != "openssl-libs" {
		t.Fatalf("packages = %+v, want openssl-libs only", pkgs)
	}
	p := pkgs[0]
	if want := "pkg:rpm/redhat/openssl-libs@3.0.7-18.el9_2?arch=x86_64&distro=redhat-9.2&epoch=1"; p.Purl != want {
		t.Errorf("purl = %s, want %s", p.Purl, want)
	}
	if p.ID != "openssl-libs@1:3.0.7-18.el9_2" || p.Vendor != "Red Hat, Inc." || p.Licenses[0] != "ASL 2.0" {
		t.Errorf("package %+v", p)
	}
	if len(warnings) != 1 || warnings[0].Path != "var/lib/rpm/Packages.db" || !strings.Contains(warnings[0].Message, "(1 problems)") ||
		!strings.Contains(warnings[0].Message, "record 3: corrupt rpm header") {
		t.Errorf("warnings = %+v, want one naming the db and record 3", warnings)
	}
}

func TestPurl(t *testing.T) {
	p := toPackage(mustHeader(t, opensslHeader()))
	noEpoch := p
	noEpoch.Epoch, noEpoch.Version = 0, "3.0.7-18.el9_2"
	for _, tc := range []struct {
		os   *inventory.OS
		pkg  inventory.Package
		want string
	}{
		{redhat, p, "pkg:rpm/redhat/openssl-libs@3.0.7-18.el9_2?arch=x86_64&distro=redhat-9.2&epoch=1"},
		{redhat, noEpoch, "pkg:rpm/redhat/openssl-libs@3.0.7-18.el9_2?arch=x86_64&distro=redhat-9.2"},
		{&inventory.OS{Family: "opensuse-leap", Name: "15.5"}, noEpoch,
			"pkg:rpm/opensuse/openssl-libs@3.0.7-18.el9_2?arch=x86_64&distro=opensuse-leap-15.5"},
		{&inventory.OS{Family: "rocky"}, noEpoch, "pkg:rpm/rocky/openssl-libs@3.0.7-18.el9_2?arch=x86_64"},
		{nil, p, "pkg:rpm/openssl-libs@3.0.7-18.el9_2?arch=x86_64&epoch=1"},
	} {
		if got := purl(tc.pkg, tc.os); got != tc.want {
			t.Errorf("purl(%v) = %s, want %s", tc.os, got, tc.want)
		}
	}
}

func mustHeader(t testing.TB, blob []byte) *Header {
	h, err := ParseHeader(blob)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestBDBCorrupt(t *testing.T) {
	good := readTestdata(t, "Packages.be512")
	be := binary.BigEndian
	mod := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	// firstOverflow is the number of the first overflow page.
	firstOverflow := 0
	for pg := 1; pg < len(good)/512; pg++ {
		if good[pg*512+25] == pageOverflow {
			firstOverflow = pg
			break
		}
	}
	if firstOverflow == 0 {
		t.Fatal("Packages.be512 has no overflow page")
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		fatal   bool // readBDB fails as a whole
		minWarn int  // otherwise: at least this many skipped records
	}{
		{"empty", nil, true, 0},
		{"not bdb", bytes.Repeat([]byte{1}, 4096), true, 0},
		{"bad page size", mod(func(b []byte) { be.PutUint32(b[20:], 1000) }), true, 0},
		{"truncated to meta page", good[:512], false, 0},
		{"truncated mid-chain", good[:len(good)-512], false, 2}, // the cut, and the record it held
		{"overflow chain out of file", mod(func(b []byte) { be.PutUint32(b[firstOverflow*512+16:], 1<<30) }), false, 1},
		{"overflow chain loop", mod(func(b []byte) {
			be.PutUint32(b[firstOverflow*512+16:], uint32(firstOverflow))
			be.PutUint16(b[firstOverflow*512+22:], 1)
		}), false, 1},
		{"overflow length too big", mod(func(b []byte) { be.PutUint16(b[firstOverflow*512+22:], 0xffff) }), false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warned := 0
			recs, err := readBDB(tc.data, func(uint32, error) { warned++ })
			if tc.fatal {
				if err == nil {
					t.Fatalf("want an error, got %d records", len(recs))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if warned < tc.minWarn {
				t.Errorf("%d warnings, want at least %d", warned, tc.minWarn)
			}
			// One warning per record at most, and one for a cut file.
			if len(recs)+warned > 4 {
				t.Errorf("%d records and %d warnings from a 3-package database", len(recs), warned)
			}
		})
	}
}

func TestNDBCorrupt(t *testing.T) {
	good := writeNDB([][]byte{opensslHeader(), opensslHeader()})
	le := binary.LittleEndian
	mod := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	slot0 := ndbHeaderSize
	for _, tc := range []struct {
		name  string
		data  []byte
		fatal bool
		want  int // records
	}{
		{"good", good, false, 2},
		{"empty", nil, true, 0},
		{"bad magic", mod(func(b []byte) { b[0] = 'X' }), true, 0},
		{"slot pages beyond file", mod(func(b []byte) { le.PutUint32(b[12:], 1000) }), true, 0},
		{"blob beyond file", mod(func(b []byte) { le.PutUint32(b[slot0+8:], 1<<28) }), false, 1},
		{"blob inside slots", mod(func(b []byte) { le.PutUint32(b[slot0+8:], 1) }), false, 1},
		{"blob magic", mod(func(b []byte) { b[ndbPageSize] = 'X' }), false, 1},
		{"blob length", mod(func(b []byte) { le.PutUint32(b[ndbPageSize+12:], 1<<30) }), false, 1},
		{"slot magic", mod(func(b []byte) { b[slot0] = 'X' }), false, 1},
		{"truncated", good[:len(good)-100], false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warned := 0
			recs, err := readNDB(tc.data, func(uint32, error) { warned++ })
			if tc.fatal != (err != nil) {
				t.Fatalf("err = %v, fatal %v", err, tc.fatal)
			}
			if len(recs) != tc.want {
				t.Errorf("%d records, want %d", len(recs), tc.want)
			}
			if !tc.fatal && len(recs)+warned != 2 {
				t.Errorf("%d records + %d warnings, want 2", len(recs), warned)
			}
		})
	}
}

func FuzzReadBDB(f *testing.F) {
	f.Add(readTestdata(f, "Packages.be512"))
	f.Add(readTestdata(f, "Packages.le16k"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, _ := readBDB(data, func(uint32, error) {})
		for _, r := range recs {
			ParseHeader(r.blob)
		}
	})
}

func FuzzReadNDB(f *testing.F) {
	f.Add(writeNDB([][]byte{opensslHeader()}))
	f.Add(readTestdata(f, "Packages.db"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, _ := readNDB(data, func(uint32, error) {})
		for _, r := range recs {
			ParseHeader(r.blob)
		}
	})
}

func FuzzReadSQLite(f *testing.F) {
	f.Add(readTestdata(f, "rpmdb.sqlite"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, _ := readSQLite(context.Background(), data)
		for _, r := range recs {
			ParseHeader(r.blob)
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

// BenchmarkRPM catalogs an ndb database of 2,000 generated headers with
// 20 files each.
func BenchmarkRPM(b *testing.B) {
	var blobs [][]byte
	for i := range 2000 {
		base := make([]string, 20)
		idx := make([]int32, 20)
		for j := range base {
			base[j] = fmt.Sprintf("file%d", j)
			idx[j] = int32(j % 2)
		}
		blobs = append(blobs, buildHeader(
			tv{tagName, fmt.Sprintf("pkg%d", i)}, tv{tagVersion, "1.2.3"}, tv{tagRelease, "4.el9"},
			tv{tagEpoch, []int32{int32(i % 3)}}, tv{tagArch, "x86_64"},
			tv{tagSourceRPM, fmt.Sprintf("src%d-1.2.3-4.el9.src.rpm", i/2)}, tv{tagLicense, "MIT"},
			tv{tagVendor, "Red Hat, Inc."}, tv{tagDirnames, []string{"/usr/lib64/", fmt.Sprintf("/usr/share/pkg%d/", i)}},
			tv{tagBasenames, base}, tv{tagDirIndexes, idx},
		))
	}
	fsys := fstest.MapFS{"var/lib/rpm/Packages.db": {Data: writeNDB(blobs)}}
	e := env(redhat, io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		res, err := New().Catalog(context.Background(), fsys, e)
		if err != nil || len(res[0].Packages) != 2000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkRPMSQLite catalogs the real three-package rpmdb.sqlite, which
// measures the fixed cost of loading a database into SQLite.
func BenchmarkRPMSQLite(b *testing.B) {
	fsys := fstest.MapFS{"var/lib/rpm/rpmdb.sqlite": {Data: readTestdata(b, "rpmdb.sqlite")}}
	e := env(redhat, io.Discard)
	for b.Loop() {
		if _, err := New().Catalog(context.Background(), fsys, e); err != nil {
			b.Fatal(err)
		}
	}
}

// cutFS serves one file whose read ends with io.ErrUnexpectedEOF after
// data, as layerfs serves a file cut at its size bound.
type cutFS struct {
	name string
	data []byte
}

func (c cutFS) Open(name string) (fs.File, error) {
	if name != c.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &cutFile{r: io.MultiReader(bytes.NewReader(c.data), iotest.ErrReader(io.ErrUnexpectedEOF))}, nil
}

type cutFile struct{ r io.Reader }

func (f *cutFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *cutFile) Close() error               { return nil }
func (f *cutFile) Stat() (fs.FileInfo, error) { return nil, errors.ErrUnsupported }

// TestCutDatabase: a database file cut short keeps the records read, with
// a warning saying so; cut before any record, it is an error.
func TestCutDatabase(t *testing.T) {
	bdb := readTestdata(t, "Packages")
	var warnings []inventory.Warning
	e := env(redhat, io.Discard)
	e.Warned = func(w inventory.Warning) { warnings = append(warnings, w) }
	res, err := New().Catalog(context.Background(), cutFS{"var/lib/rpm/Packages", bdb}, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Packages) != 3 {
		t.Fatalf("results = %+v, want the 3 packages", res)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0].Message, "cut short after 24576 bytes") {
		t.Errorf("warnings = %+v", warnings)
	}
	_, err = New().Catalog(context.Background(), cutFS{"var/lib/rpm/Packages", bdb[:4096]}, e)
	if err == nil || !strings.Contains(err.Error(), "rpm: var/lib/rpm/Packages: nothing could be read: cut short after 4096 bytes") {
		t.Errorf("err = %v", err)
	}
}
