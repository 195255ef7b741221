// Package catalog finds packages in a filesystem tree.
//
// A Cataloger reads one package format (apk, dpkg, rpm, npm lockfiles, …).
// The layer walk asks every cataloger, for every file it streams, whether it
// Wants that file; only wanted files are kept. Catalog then runs on a
// read-only view of the wanted files. The list of catalogers in use is built
// explicitly in this package (see All), never by registration from init.
package catalog

import (
	"context"
	"io/fs"
	"log/slog"

	"github.com/vigil-scanner/vigil/inventory"
)

// Cataloger finds the packages of one format.
type Cataloger interface {
	// Name is short and stable: "apk", "dpkg", "rpm", "npm", …
	Name() string
	// Wants reports whether the file at path is an input. path is
	// slash-separated and relative to the root, without a leading slash
	// ("var/lib/dpkg/status"). mode and size come from the tar header. Wants
	// is called for every file of every layer, so it must be cheap and must
	// not allocate.
	Wants(path string, mode fs.FileMode, size int64) bool
	// Catalog returns the results found in fsys, which holds the wanted
	// files (and symlinks) of one filesystem state. Malformed input is
	// recorded with env.Warn, naming the file, and skipped; an error is
	// returned only when nothing sensible can be reported.
	Catalog(ctx context.Context, fsys fs.FS, env Env) ([]inventory.Result, error)
}

// Env is what a cataloger may know about the tree besides its own files.
type Env struct {
	// OS is the detected operating system, or nil.
	OS *inventory.OS
	// Logger receives warnings about malformed input; never nil.
	Logger *slog.Logger
	// Owned reports whether an OS package lists path (slash-separated,
	// without a leading slash) among its installed files, so a language
	// cataloger can skip files the OS package manager installed. Run always
	// sets it (reporting false while OS catalogers run); nil means nothing
	// is owned.
	Owned func(path string) bool
	// Warned, when set, receives every warning recorded with Warn (which
	// also logs it). Run sets it to collect the scan's warnings.
	Warned func(inventory.Warning)
	// Unreadable, when set, returns a file or directory of the tree at
	// path, below it or above it that a cataloger wanted but that could
	// not be read (a fifo or a directory where a database file belongs, a
	// file or directory the walk was denied), and what it is; "" when
	// there is none. A cataloger that finds no file at path asks it
	// before it concludes that there is none. Run sets it (see
	// Tree.Unreadable).
	Unreadable func(path string) (file, what string)
}

// NotRead returns what e.Unreadable returns for path; "" when e.Unreadable
// is nil.
func (e Env) NotRead(path string) (file, what string) {
	if e.Unreadable == nil {
		return "", ""
	}
	return e.Unreadable(path)
}

// Warn records that the file at path could not be read as it should have
// been: problem names the reader and what went wrong ("npm: malformed
// lockfile"), err (which may be nil) the cause. The warning is logged and
// passed to e.Warned, so the report says the scan is incomplete.
func (e Env) Warn(path, problem string, err error) {
	msg := problem
	if err != nil {
		msg += ": " + err.Error()
	}
	if e.Logger != nil {
		if err != nil {
			e.Logger.Warn(problem, "path", path, "err", err)
		} else {
			e.Logger.Warn(problem, "path", path)
		}
	}
	if e.Warned != nil {
		e.Warned(inventory.Warning{Path: path, Message: msg})
	}
}

// OwnedByOS reports whether path belongs to an OS package; false when
// e.Owned is nil.
func (e Env) OwnedByOS(path string) bool {
	return e.Owned != nil && e.Owned(path)
}
