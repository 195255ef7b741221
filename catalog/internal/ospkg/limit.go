package ospkg

import "fmt"

// MaxPackages bounds the packages read from one database file. Real
// systems install a few thousand packages; a database listing more than
// this is broken or hostile, and reading all of it would cost the scan its
// memory and time bounds.
const MaxPackages = 100_000

// ErrTooMany is returned, with the first MaxPackages packages, by a
// database reader that stopped there.
var ErrTooMany = fmt.Errorf("more than %d packages; only the first %d are read", MaxPackages, MaxPackages)

// MaxFiles bounds the installed files recorded for the packages of one
// database, in all. Real systems own a few hundred thousand files; the
// bound keeps a database of millions of one-byte file names from costing
// gigabytes of string headers.
const MaxFiles = 1 << 22

// ErrTooManyFiles is returned, with the packages read, by a database
// reader that stopped recording installed files at MaxFiles.
var ErrTooManyFiles = fmt.Errorf("more than %d installed files; the rest are not recorded", MaxFiles)

// FileBudget counts the installed files recorded for one database. The
// zero value is ready.
type FileBudget struct {
	n        int
	Exceeded bool // a Take was refused
}

// Take reports whether n more files may be recorded, and counts them if
// so.
func (b *FileBudget) Take(n int) bool {
	if b.n+n > MaxFiles {
		b.Exceeded = true
		return false
	}
	b.n += n
	return true
}

// Left returns how many more files may be recorded.
func (b *FileBudget) Left() int { return MaxFiles - b.n }
