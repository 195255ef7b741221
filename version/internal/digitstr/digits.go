// Package digitstr compares runs of decimal digits as numbers of any size,
// as every version scheme's numeric components must be compared (dpkg, rpm
// and Maven do not overflow on long numbers, so neither does vigil).
package digitstr

import (
	"cmp"
	"strings"
)

// Compare compares two strings of ASCII digits numerically: leading zeros
// are ignored and "" is 0. It returns -1, 0 or +1.
func Compare(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return cmp.Compare(len(a), len(b))
	}
	return strings.Compare(a, b)
}
