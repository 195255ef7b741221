// Package rpm catalogs the packages installed by rpm (Red Hat, CentOS,
// Rocky, Alma, Oracle, Amazon, Fedora, openSUSE, SLES, Photon, Azure
// Linux, CBL-Mariner), read from the rpm database in any of its three
// formats: SQLite (rpmdb.sqlite, rpm 4.16+), ndb (Packages.db, SUSE) and
// Berkeley DB hash (Packages, up to rpm 4.15). The databases are read by
// vigil's own code from the bytes; no rpm library is used.
package rpm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/ospkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// maxRecords bounds the records read from a database: the packages it can
// hold (ospkg.MaxPackages), and room for gpg-pubkey entries.
const maxRecords = ospkg.MaxPackages + 1024

// maxDB bounds the size of a database file read into memory. The largest
// real rpm databases (full RHEL installs) are a few hundred MB.
const maxDB = 1 << 30

// Format is an rpm database format.
type Format int

// The rpm database formats.
const (
	FormatSQLite Format = iota // rpmdb.sqlite, rpm 4.16+
	FormatNDB                  // Packages.db, rpm's native format (SUSE)
	FormatBDB                  // Packages, Berkeley DB hash, up to rpm 4.15
)

// databases lists the database files in order of preference: when an image
// holds more than one (a converted database, or a leftover), the newest
// format is the one rpm uses.
var databases = [...]struct {
	path   string
	format Format
}{
	{"usr/lib/sysimage/rpm/rpmdb.sqlite", FormatSQLite},
	{"var/lib/rpm/rpmdb.sqlite", FormatSQLite},
	{"usr/lib/sysimage/rpm/Packages.db", FormatNDB},
	{"var/lib/rpm/Packages.db", FormatNDB},
	{"var/lib/rpm/Packages", FormatBDB},
	{"usr/lib/sysimage/rpm/Packages", FormatBDB},
}

// Cataloger reads the rpm database.
type Cataloger struct{}

// New returns an rpm cataloger.
func New() *Cataloger { return &Cataloger{} }

// Name returns "rpm".
func (*Cataloger) Name() string { return "rpm" }

// Wants reports whether path is one of the rpm database files.
func (*Cataloger) Wants(path string, mode fs.FileMode, size int64) bool {
	if mode.IsDir() {
		return false
	}
	for _, db := range databases {
		if path == db.path {
			return true
		}
	}
	return false
}

// Catalog reads the first database present in fsys, in the order rpm
// prefers them (see databases), and returns its packages. It returns no
// result when there is no rpm database, and an error naming the file when
// that database cannot be read (env.Unreadable), or nothing in it can: a
// database rpm does not use (a leftover of an older format) is never read
// in its place.
func (*Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	for _, db := range databases {
		data, cut, err := readFile(fsys, db.path)
		if errors.Is(err, fs.ErrNotExist) {
			if err := ospkg.Absent(env, "rpm", db.path); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rpm: %s: %w", db.path, err)
		}
		pkgs, err := read(ctx, data, cut, db.format, db.path, env)
		if err != nil {
			return nil, err
		}
		for i := range pkgs {
			pkgs[i].Purl = purl(pkgs[i], env.OS)
		}
		ospkg.Sort(pkgs)
		return []inventory.Result{{
			Target:   db.path,
			Class:    inventory.ClassOSPkgs,
			Type:     ospkg.ResultType(env.OS, "rpm"),
			Packages: pkgs,
		}}, nil
	}
	return nil, nil
}

// Read returns the packages of a database of the given format held in
// data; name is the file name used in warnings and errors. gpg-pubkey
// pseudo-packages are skipped. A database whose structure cannot be read
// is an error naming the file; corrupt records are skipped, with one
// warning through env naming the file, unless no record at all could be
// read, which is an error. Purl and ID are left empty.
func Read(ctx context.Context, data []byte, f Format, name string, env catalog.Env) ([]inventory.Package, error) {
	return read(ctx, data, nil, f, name, env)
}

// read is Read of a database of which data holds only a part when cut is
// set: cut is then a problem, and the records in data are kept.
func read(ctx context.Context, data []byte, cut error, f Format, name string, env catalog.Env) ([]inventory.Package, error) {
	problems := ospkg.NewProblems("rpm", name)
	if cut != nil {
		problems.Add("", cut)
	}
	warn := func(key uint32, err error) {
		where := ""
		if key != 0 {
			where = fmt.Sprintf("record %d", key)
		}
		problems.Add(where, err)
	}
	var recs []record
	var err error
	switch f {
	case FormatSQLite:
		recs, err = readSQLite(ctx, data)
	case FormatNDB:
		recs, err = readNDB(data, warn)
	case FormatBDB:
		recs, err = readBDB(data, warn)
	default:
		err = fmt.Errorf("unknown database format %d", f)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("rpm: %s: %w", name, err)
	}
	if len(recs) >= maxRecords {
		recs = recs[:maxRecords]
		problems.Add("", ospkg.ErrTooMany)
	}
	pkgs := make([]inventory.Package, 0, min(len(recs), ospkg.MaxPackages))
	read := 0
	var files ospkg.FileBudget
	for i, r := range recs {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if len(pkgs) == ospkg.MaxPackages {
			if len(recs) < maxRecords { // else said above
				problems.Add("", ospkg.ErrTooMany)
			}
			break
		}
		h, err := ParseHeader(r.blob)
		if err != nil {
			warn(r.key, err)
			continue
		}
		read++
		if h.Name == "gpg-pubkey" {
			continue
		}
		if !files.Take(len(h.Files)) {
			h.Files = nil
		}
		pkgs = append(pkgs, toPackage(h))
	}
	if files.Exceeded {
		problems.Add("", ospkg.ErrTooManyFiles)
	}
	if err := problems.Done(env, read); err != nil {
		return nil, err
	}
	return pkgs, nil
}

// toPackage maps a header to a package.
func toPackage(h *Header) inventory.Package {
	p := inventory.Package{
		Name:            h.Name,
		Version:         evr(h.Epoch, h.Version, h.Release),
		Epoch:           h.Epoch,
		Arch:            h.Arch,
		Vendor:          h.Vendor,
		Modularitylabel: h.ModularityLabel,
	}
	if h.License != "" {
		p.Licenses = []string{h.License}
	}
	if n, v, r, ok := splitSourceRPM(h.SourceRPM); ok {
		p.SourceName, p.SourceVersion = n, evr(h.Epoch, v, r)
	}
	if len(h.Files) > 0 {
		p.InstalledFiles = make([]string, len(h.Files))
		for i, f := range h.Files {
			p.InstalledFiles[i] = strings.TrimPrefix(f, "/")
		}
	}
	return p
}

// purl returns pkg:rpm/<vendor>/<name>@<version>-<release>?arch=…&distro=…&epoch=…
// with the epoch as a qualifier only when non-zero, as the purl rpm type
// definition says. The namespace is the OS family; it is empty when the OS
// is unknown (no vendor can be told reliably from the database alone).
func purl(p inventory.Package, os *inventory.OS) string {
	q := map[string]string{}
	if p.Arch != "" {
		q["arch"] = p.Arch
	}
	if d := ospkg.Distro(os); d != "" {
		q["distro"] = d
	}
	version := p.Version
	if p.Epoch != 0 {
		q["epoch"] = fmt.Sprint(p.Epoch)
		_, version, _ = strings.Cut(version, ":")
	}
	u := packageurl.NewPackageURL(packageurl.TypeRPM, ospkg.Namespace(os, ""),
		p.Name, version, packageurl.QualifiersFromMap(q), "")
	return u.ToString()
}

// readFile reads a whole database file. Of a file larger than maxDB, or
// one whose read ends early (io.ErrUnexpectedEOF: a file cut at a bound),
// it returns what it read and, as cut, why the rest is missing.
func readFile(fsys fs.FS, name string) (data []byte, cut, err error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	// One buffer of the file's size when it is known (the file's size,
	// not a claim of its contents), with room for the read that finds
	// the end: io.ReadAll would grow one, and leave as much again behind.
	var buf bytes.Buffer
	if st, err := f.Stat(); err == nil {
		buf.Grow(int(min(st.Size(), maxDB+1)) + bytes.MinRead)
	}
	_, err = buf.ReadFrom(io.LimitReader(f, maxDB+1))
	data = buf.Bytes()
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return data, fmt.Errorf("cut short after %d bytes", len(data)), nil
	case err != nil:
		return nil, nil, err
	case len(data) > maxDB:
		return data[:maxDB], fmt.Errorf("larger than %d bytes; only the first %[1]d are read", maxDB), nil
	}
	return data, nil, nil
}

// Class reports that the cataloger finds OS packages, so catalog.Run runs
// it before the language catalogers.
func (*Cataloger) Class() string { return inventory.ClassOSPkgs }
