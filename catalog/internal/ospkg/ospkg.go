// Package ospkg holds what the OS package catalogers (apk, dpkg, rpm) share:
// the result type, the purl namespace and distro qualifier derived from the
// detected OS, deterministic ordering and unique IDs, and how a database
// file read only in part, or not at all, is reported (Problems).
package ospkg

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/inventory"
)

// ResultType is the Result.Type of an OS package result: the OS family when
// known, else fallback (the database format: "apk", "dpkg", "rpm").
func ResultType(os *inventory.OS, fallback string) string {
	if os != nil && os.Family != "" {
		return os.Family
	}
	return fallback
}

// Namespace is the purl namespace (the vendor) for os, or fallback when the
// OS is unknown. The openSUSE families share the "opensuse" vendor, as Syft
// and Trivy write it.
func Namespace(os *inventory.OS, fallback string) string {
	if os == nil || os.Family == "" {
		return fallback
	}
	switch os.Family {
	case "opensuse-leap", "opensuse-tumbleweed":
		return "opensuse"
	}
	return os.Family
}

// Distro is the purl "distro" qualifier value "family-name" ("debian-12",
// "redhat-9.2"), or "" when the OS or its release is unknown.
func Distro(os *inventory.OS) string {
	if os == nil || os.Family == "" || os.Name == "" {
		return ""
	}
	return os.Family + "-" + os.Name
}

// Sort orders pkgs by name, version and arch, then gives each an ID
// "name@version", adding "?arch=…" when the same name and version appear
// for more than one architecture (multi-arch dpkg, rpm multilib).
func Sort(pkgs []inventory.Package) {
	slices.SortStableFunc(pkgs, func(a, b inventory.Package) int {
		return cmp.Or(
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Version, b.Version),
			cmp.Compare(a.Arch, b.Arch),
		)
	})
	for i := range pkgs {
		p := &pkgs[i]
		p.ID = p.Name + "@" + p.Version
		dup := i > 0 && pkgs[i-1].Name == p.Name && pkgs[i-1].Version == p.Version ||
			i+1 < len(pkgs) && pkgs[i+1].Name == p.Name && pkgs[i+1].Version == p.Version
		if dup && p.Arch != "" {
			p.ID += "?arch=" + p.Arch
		}
	}
}

// Absent is what a reader ("dpkg") that found no database file at path
// returns: nil when there is none, and an error naming the file when the
// tree holds one that could not be read (a fifo, a directory, a file the
// walk was denied; see catalog.Env.Unreadable), for a database that
// exists but cannot be read must not pass for none.
func Absent(env catalog.Env, reader, path string) error {
	file, what := env.NotRead(path)
	switch {
	case file == "":
		return nil
	case file == path || strings.HasPrefix(file, path+"/"):
		return fmt.Errorf("%s: %s: exists but cannot be read: %s", reader, file, what)
	}
	return fmt.Errorf("%s: %s: cannot tell whether it exists: %s: %s", reader, path, file, what)
}

// maxListed bounds the problems one warning or error spells out.
const maxListed = 3

// Problems collects what an OS package database reader could not read in
// one database file (a malformed record, a corrupt page, a line too
// long), so that the file's outcome is decided once it has been read:
// a database of which nothing could be read is an error — the scan must
// not report it as an image without packages — and one read in part keeps
// the packages read, with one warning naming the file.
type Problems struct {
	reader string // "dpkg", "apk", "rpm"
	path   string
	n      int
	listed []string
}

// NewProblems returns the problems of the database file at path, read by
// reader ("dpkg").
func NewProblems(reader, path string) *Problems {
	return &Problems{reader: reader, path: path}
}

// Add records one problem; where says where in the file it is ("line 12",
// "record 3"), and may be empty.
func (p *Problems) Add(where string, err error) {
	p.n++
	if len(p.listed) < maxListed {
		s := err.Error()
		if where != "" {
			s = where + ": " + s
		}
		p.listed = append(p.listed, s)
	}
}

// Done decides the file's outcome once read entries were valid: an error
// naming the file when there were problems and nothing valid, else nil,
// after recording a warning through env when there were problems.
func (p *Problems) Done(env catalog.Env, read int) error {
	if p.n == 0 {
		return nil
	}
	if read == 0 {
		return fmt.Errorf("%s: %s: nothing could be read: %s", p.reader, p.path, p.summary())
	}
	env.Warn(p.path, fmt.Sprintf("%s: database read in part (%d problems); the %d entries read are kept", p.reader, p.n, read),
		errors.New(p.summary()))
	return nil
}

func (p *Problems) summary() string {
	s := strings.Join(p.listed, "; ")
	if more := p.n - len(p.listed); more > 0 {
		s += fmt.Sprintf("; and %d more", more)
	}
	return s
}
