// Package apk catalogs the packages installed by Alpine's apk (also Wolfi
// and Chainguard), read from the installed database lib/apk/db/installed.
//
// The database is a sequence of records separated by blank lines; each line
// is "K:value" with a one-letter key. The keys used here are P (name),
// V (version), o (origin, the source package), A (arch), L (licence),
// m (maintainer), F (directory) and R (file in the last F directory).
package apk

import (
	"bufio"
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

// DBPath is the installed database, relative to the root.
const DBPath = "lib/apk/db/installed"

// maxLine bounds one line of the database; real lines are far shorter.
const maxLine = 1 << 20

// Cataloger reads the apk installed database.
type Cataloger struct{}

// New returns an apk cataloger.
func New() *Cataloger { return &Cataloger{} }

// Name returns "apk".
func (*Cataloger) Name() string { return "apk" }

// Wants reports whether path is the apk installed database.
func (*Cataloger) Wants(path string, mode fs.FileMode, size int64) bool {
	return path == DBPath && !mode.IsDir()
}

// Catalog reads lib/apk/db/installed from fsys. It returns no result when
// the database is absent, and an error naming the file when the database
// exists but cannot be read (env.Unreadable), or nothing in it can.
func (*Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	f, err := fsys.Open(DBPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ospkg.Absent(env, "apk", DBPath)
	}
	if err != nil {
		return nil, fmt.Errorf("apk: %w", err)
	}
	defer f.Close()
	pkgs, err := Parse(ctx, f, DBPath, env)
	if err != nil {
		return nil, err
	}
	for i := range pkgs {
		pkgs[i].Purl = purl(pkgs[i], env.OS)
	}
	ospkg.Sort(pkgs)
	return []inventory.Result{{
		Target:   DBPath,
		Class:    inventory.ClassOSPkgs,
		Type:     ospkg.ResultType(env.OS, "apk"),
		Packages: pkgs,
	}}, nil
}

// Parse reads an apk installed database from r; name is the file name used
// in warnings and errors. Records without a name or version, lines that
// are not "K:value" and a read that stops early are problems: when some
// packages were read, they are kept and one warning (through env) names
// the file; when none were, Parse fails naming the file. Purl and ID are
// left empty and packages are in database order. At most
// ospkg.MaxPackages packages and ospkg.MaxFiles installed files are read;
// more is a problem too.
func Parse(ctx context.Context, r io.Reader, name string, env catalog.Env) ([]inventory.Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)

	var (
		pkgs     []inventory.Package
		cur      inventory.Package
		dir      string
		start    int // line number where the current record began
		used     bool
		line     int
		problems = ospkg.NewProblems("apk", name)
		files    ospkg.FileBudget
	)
	flush := func() {
		if !used {
			return
		}
		if cur.Name == "" || cur.Version == "" {
			problems.Add(fmt.Sprintf("line %d", start), fmt.Errorf("record without name or version (name %q)", cur.Name))
		} else {
			if cur.SourceName != "" {
				cur.SourceVersion = cur.Version
			}
			pkgs = append(pkgs, cur)
		}
		cur, dir, used = inventory.Package{}, "", false
	}
	for len(pkgs) < ospkg.MaxPackages && sc.Scan() {
		line++
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		text := strings.TrimSuffix(sc.Text(), "\r")
		if text == "" {
			flush()
			continue
		}
		if !used {
			used, start = true, line
		}
		if len(text) < 2 || text[1] != ':' {
			problems.Add(fmt.Sprintf("line %d", line), errors.New("not a \"K:value\" line"))
			continue
		}
		val := text[2:]
		switch text[0] {
		case 'P':
			cur.Name = val
		case 'V':
			cur.Version = val
		case 'o':
			cur.SourceName = val
		case 'A':
			cur.Arch = val
		case 'L':
			if val != "" {
				cur.Licenses = []string{val}
			}
		case 'm':
			cur.Maintainer = val
		case 'F':
			dir = val
		case 'R':
			if !files.Take(1) {
				continue
			}
			if dir == "" {
				cur.InstalledFiles = append(cur.InstalledFiles, val)
			} else {
				cur.InstalledFiles = append(cur.InstalledFiles, dir+"/"+val)
			}
		}
	}
	if err := sc.Err(); err != nil {
		// The record being read when the read stopped may be cut short.
		used = false
		problems.Add(fmt.Sprintf("line %d", line+1), fmt.Errorf("%w; the rest of the file is not read", err))
	}
	if len(pkgs) == ospkg.MaxPackages && sc.Scan() {
		used = false
		problems.Add("", ospkg.ErrTooMany)
	}
	flush()
	if files.Exceeded {
		problems.Add("", ospkg.ErrTooManyFiles)
	}
	if err := problems.Done(env, len(pkgs)); err != nil {
		return nil, err
	}
	return pkgs, nil
}

// purl returns pkg:apk/<vendor>/<name>@<version>?arch=…&distro=<release>.
// The distro qualifier is the bare release ("3.10.4"), as Trivy writes it.
func purl(p inventory.Package, os *inventory.OS) string {
	q := map[string]string{}
	if p.Arch != "" {
		q["arch"] = p.Arch
	}
	if os != nil && os.Name != "" {
		q["distro"] = os.Name
	}
	u := packageurl.NewPackageURL(packageurl.TypeApk, ospkg.Namespace(os, "alpine"),
		strings.ToLower(p.Name), p.Version, packageurl.QualifiersFromMap(q), "")
	return u.ToString()
}

// Class reports that the cataloger finds OS packages, so catalog.Run runs
// it before the language catalogers.
func (*Cataloger) Class() string { return inventory.ClassOSPkgs }
