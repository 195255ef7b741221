package ospkg

import (
	"errors"
	"fmt"
)

// MaxPackages bounds the packages read from one database file. Real
// systems install a few thousand packages; a database listing more than
// this is broken or hostile, and reading all of it would cost the scan its
// memory and time bounds.
const MaxPackages = 100_000

// ErrTooMany is returned, with the first MaxPackages packages, by a
// database reader that stopped there.
var ErrTooMany = fmt.Errorf("more than %d packages; only the first %d are read", MaxPackages, MaxPackages)

// IsTooMany reports whether err says a database was read up to
// MaxPackages.
func IsTooMany(err error) bool { return errors.Is(err, ErrTooMany) }
