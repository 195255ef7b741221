// Package dpkg catalogs the packages installed by Debian's dpkg (Debian,
// Ubuntu and derivatives), read from var/lib/dpkg/status, from the
// per-package files of var/lib/dpkg/status.d/ that distroless images carry
// instead, and from the file lists in var/lib/dpkg/info/.
//
// The status files are deb822 control files: paragraphs of "Field: value"
// lines separated by blank lines, where a line starting with a space or tab
// continues the previous field.
package dpkg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/ospkg"
	"github.com/vigil-scanner/vigil/internal/bounded"
	"github.com/vigil-scanner/vigil/inventory"
)

// Paths read by the cataloger, relative to the root.
const (
	StatusPath = "var/lib/dpkg/status"
	StatusDir  = "var/lib/dpkg/status.d"
	InfoDir    = "var/lib/dpkg/info"
)

const (
	// maxFile bounds every file read; a real status file is a few MB.
	maxFile = 256 << 20
	// maxLine bounds one line.
	maxLine = 1 << 20
)

// Cataloger reads the dpkg database.
type Cataloger struct{}

// New returns a dpkg cataloger.
func New() *Cataloger { return &Cataloger{} }

// Name returns "dpkg".
func (*Cataloger) Name() string { return "dpkg" }

// Wants reports whether path is the status file, a file of status.d, or a
// file list (.list) in the info directory.
func (*Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	if mode.IsDir() {
		return false
	}
	switch {
	case p == StatusPath:
		return true
	case strings.HasPrefix(p, StatusDir+"/"):
		return strings.IndexByte(p[len(StatusDir)+1:], '/') < 0
	case strings.HasPrefix(p, InfoDir+"/"):
		rest := p[len(InfoDir)+1:]
		return strings.HasSuffix(rest, ".list") && strings.IndexByte(rest, '/') < 0
	}
	return false
}

// Catalog reads the dpkg database from fsys. The status file and status.d
// together make one result whose target is the status file (or status.d
// when only that exists). It returns no result when neither is present,
// and an error naming the file when a status file (or a file of status.d)
// exists but cannot be read (env.Unreadable), or nothing in it can.
func (*Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var pkgs []inventory.Package
	target := ""

	ps, err := parseFile(ctx, fsys, StatusPath, env)
	switch {
	case err == nil:
		target = StatusPath
		pkgs = append(pkgs, ps...)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	default:
		if err := ospkg.Absent(env, "dpkg", StatusPath); err != nil {
			return nil, err
		}
	}

	distroless, err := readStatusDir(ctx, fsys, env)
	if err != nil {
		return nil, err
	}
	if len(distroless) > 0 && target == "" {
		target = StatusDir
	}
	pkgs = append(pkgs, distroless...)
	if target == "" {
		return nil, nil
	}

	var files ospkg.FileBudget
	for i := range pkgs {
		p := &pkgs[i]
		if p.InstalledFiles == nil {
			p.InstalledFiles = listFiles(fsys, p.Name, p.Arch, files.Left(), env)
		}
		if !files.Take(len(p.InstalledFiles)) {
			p.InstalledFiles = nil
		}
		p.Purl = purl(*p, env.OS)
	}
	if files.Exceeded {
		env.Warn(InfoDir, "dpkg: file lists read in part", ospkg.ErrTooManyFiles)
	}
	ospkg.Sort(pkgs)
	return []inventory.Result{{
		Target:   target,
		Class:    inventory.ClassOSPkgs,
		Type:     ospkg.ResultType(env.OS, "dpkg"),
		Packages: pkgs,
	}}, nil
}

// readStatusDir reads every file of status.d except the *.md5sums files,
// which give the installed files of the package of the same file name.
// Each file is a database of its own: one that cannot be read, or that
// exists but was not read (env.Unreadable), is an error.
func readStatusDir(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Package, error) {
	if err := ospkg.Absent(env, "dpkg", StatusDir); err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, StatusDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dpkg: %w", err)
	}
	var pkgs []inventory.Package
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, ".md5sums") {
			continue
		}
		file := StatusDir + "/" + name
		ps, err := parseFile(ctx, fsys, file, env)
		if err != nil {
			return nil, err
		}
		if len(pkgs)+len(ps) > ospkg.MaxPackages {
			env.Warn(StatusDir, "dpkg: status.d read in part", ospkg.ErrTooMany)
			break
		}
		sums := file + ".md5sums"
		if data, err := readFile(fsys, sums); err == nil {
			files := parseMD5Sums(data)
			// The md5sums belong to the package named like the file, or
			// to the only package of the file.
			for i := range ps {
				if ps[i].Name == name || len(ps) == 1 {
					ps[i].InstalledFiles = files
					break
				}
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			env.Warn(sums, "dpkg: md5sums unreadable", err)
		}
		pkgs = append(pkgs, ps...)
	}
	return pkgs, nil
}

// Parse reads the installed packages of a dpkg status file from r; name is
// the file name used in warnings and errors. Paragraphs with a Status whose
// last word is not "installed" are skipped; paragraphs without Status
// (status.d) count as installed. Lines without a field name, paragraphs
// without Package or Version and a read that stops early are problems:
// when some packages were read, they are kept and one warning (through
// env) names the file; when none were, Parse fails naming the file. Purl
// and ID are left empty; the order is the file's. At most
// ospkg.MaxPackages packages are read; more is a problem too.
func Parse(ctx context.Context, r io.Reader, name string, env catalog.Env) ([]inventory.Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)

	var (
		pkgs     []inventory.Package
		fields   = map[string]string{}
		used     bool // the paragraph has at least one field
		start    int
		line     int
		problems = ospkg.NewProblems("dpkg", name)
	)
	flush := func() {
		if used {
			if p, ok, err := paragraph(fields); err != nil {
				problems.Add(fmt.Sprintf("line %d", start), err)
			} else if ok {
				pkgs = append(pkgs, p)
			}
			clear(fields)
		}
		used = false
	}
	for len(pkgs) < ospkg.MaxPackages && sc.Scan() {
		line++
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		text := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			flush()
			continue
		}
		if text[0] == '#' {
			continue
		}
		if !used {
			used, start = true, line
		}
		if text[0] == ' ' || text[0] == '\t' {
			// Continuation lines only extend fields we do not read
			// (Description, Conffiles).
			continue
		}
		k, v, ok := strings.Cut(text, ":")
		if !ok {
			problems.Add(fmt.Sprintf("line %d", line), errors.New("line without a field name"))
			continue
		}
		switch k {
		case "Package", "Version", "Status", "Source", "Architecture", "Maintainer":
			fields[k] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		// The paragraph being read when the read stopped may be cut short.
		clear(fields)
		used = false
		problems.Add(fmt.Sprintf("line %d", line+1), fmt.Errorf("%w; the rest of the file is not read", err))
	}
	if len(pkgs) == ospkg.MaxPackages && sc.Scan() {
		clear(fields)
		used = false
		problems.Add("", ospkg.ErrTooMany)
	}
	flush()
	if err := problems.Done(env, len(pkgs)); err != nil {
		return nil, err
	}
	return pkgs, nil
}

// paragraph turns the fields of one paragraph into a package; ok is false
// for a package that is not installed.
func paragraph(f map[string]string) (p inventory.Package, ok bool, err error) {
	if st, ok := f["Status"]; ok {
		w := strings.Fields(st)
		if len(w) != 3 || w[2] != "installed" {
			return inventory.Package{}, false, nil
		}
	}
	p = inventory.Package{
		Name:       f["Package"],
		Version:    f["Version"],
		Arch:       f["Architecture"],
		Maintainer: f["Maintainer"],
	}
	if p.Name == "" || p.Version == "" {
		return inventory.Package{}, false, fmt.Errorf("paragraph without Package or Version (package %q)", p.Name)
	}
	p.SourceName, p.SourceVersion = p.Name, p.Version
	if src := f["Source"]; src != "" {
		n, v, ok := strings.Cut(src, " ")
		p.SourceName = n
		if ok {
			v = strings.TrimSpace(v)
			if strings.HasPrefix(v, "(") && strings.HasSuffix(v, ")") {
				p.SourceVersion = strings.TrimSpace(v[1 : len(v)-1])
			}
		}
	}
	return p, true, nil
}

// listFiles returns the files owned by a package, from info/<name>.list or
// info/<name>:<arch>.list, without directories that merely contain other listed
// paths and without the leading slash.
func listFiles(fsys fs.FS, name, arch string, max int, env catalog.Env) []string {
	var data []byte
	var err error
	// Most packages have <name>.list; Multi-Arch: same ones have
	// <name>:<arch>.list.
	for _, f := range []string{name + ".list", name + ":" + arch + ".list"} {
		file := InfoDir + "/" + f
		data, err = readFile(fsys, file)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			env.Warn(file, "dpkg: file list unreadable", err)
		}
	}
	if err != nil {
		return nil
	}
	var lines []string
	for l := range strings.Lines(string(data)) {
		l = strings.TrimRight(l, "\r\n")
		if l == "" || l == "/." {
			continue
		}
		if len(lines) > max {
			break // more than the caller may record: it drops the list
		}
		lines = append(lines, l)
	}
	// dpkg lists a directory before its contents: drop those that are
	// parents of the next path.
	files := lines[:0]
	for i, l := range lines {
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], l+"/") {
			continue
		}
		files = append(files, strings.TrimPrefix(l, "/"))
	}
	if len(files) == 0 {
		return nil
	}
	return files
}

// parseMD5Sums returns the paths of an md5sums file ("<md5>  <path>").
func parseMD5Sums(data []byte) []string {
	var files []string
	for l := range strings.Lines(string(data)) {
		l = strings.TrimRight(l, "\r\n")
		_, p, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		p = strings.TrimLeft(p, " *")
		if p = strings.TrimPrefix(path.Clean("/"+p), "/"); p != "" {
			files = append(files, p)
		}
	}
	sort.Strings(files)
	return files
}

// parseFile parses the status file at name as a stream (see Parse). Of a
// file larger than maxFile, the packages before the bound are read and the
// bound is a problem, as a read cut short is.
func parseFile(ctx context.Context, fsys fs.FS, name string, env catalog.Env) ([]inventory.Package, error) {
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("dpkg: %w", err)
	}
	defer f.Close()
	return Parse(ctx, &bounded.Reader{R: f, Limit: maxFile}, name, env)
}

// readFile reads a whole file, refusing ones larger than maxFile.
func readFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxFile)
	}
	return data, nil
}

// purl returns pkg:deb/<vendor>/<name>@<version>?arch=…&distro=…&epoch=…,
// where version is without its epoch, which goes to the epoch qualifier
// (as Trivy and Syft write it).
func purl(p inventory.Package, os *inventory.OS) string {
	q := map[string]string{}
	if p.Arch != "" {
		q["arch"] = p.Arch
	}
	if d := ospkg.Distro(os); d != "" {
		q["distro"] = d
	}
	version := p.Version
	if e, rest, ok := strings.Cut(version, ":"); ok {
		version = rest
		if e != "0" {
			q["epoch"] = e
		}
	}
	u := packageurl.NewPackageURL(packageurl.TypeDebian, ospkg.Namespace(os, "debian"),
		strings.ToLower(p.Name), version, packageurl.QualifiersFromMap(q), "")
	return u.ToString()
}

// Class reports that the cataloger finds OS packages, so catalog.Run runs
// it before the language catalogers.
func (*Cataloger) Class() string { return inventory.ClassOSPkgs }
