package composer

import (
	"strings"

	"github.com/vigil-scanner/vigil/version/internal/digitstr"
)

// VersionCompare is PHP's version_compare($a, $b) without an operator:
// both strings are canonicalised ("-", "_", "+" and other non-alphanumeric
// characters become ".", and a "." is put between digits and non-digits)
// and compared part by part: numbers numerically, other parts by their
// special form dev < alpha = a < beta = b < RC = rc < (number) < pl = p
// (matched by prefix; anything else sorts first). Numbers of any length
// are compared exactly (PHP clamps them to its integer range).
func VersionCompare(a, b string) int {
	pa, pb := parts{s: a}, parts{s: b}
	for {
		x, okx := pa.next()
		y, oky := pb.next()
		switch {
		case !okx && !oky:
			return 0
		case !okx:
			// b has parts left: a number makes it newer; otherwise its
			// next part is compared with a number's form.
			if isDigit(y[0]) {
				return -1
			}
			return sign(formNumber - form(y))
		case !oky:
			if isDigit(x[0]) {
				return 1
			}
			return sign(form(x) - formNumber)
		}
		var c int
		switch xd, yd := isDigit(x[0]), isDigit(y[0]); {
		case xd && yd:
			c = digitstr.Compare(x, y)
		case xd:
			c = sign(formNumber - form(y))
		case yd:
			c = sign(form(x) - formNumber)
		default:
			c = sign(form(x) - form(y))
		}
		if c != 0 {
			return c
		}
	}
}

const formNumber = 4

var forms = [...]struct {
	name  string
	order int
}{
	{"dev", 0}, {"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2},
	{"RC", 3}, {"rc", 3}, {"#", formNumber}, {"pl", 5}, {"p", 5},
}

// form is compare_special_version_forms' order of a non-numeric part.
func form(s string) int {
	for _, f := range forms {
		if strings.HasPrefix(s, f.name) {
			return f.order
		}
	}
	return -6
}

// parts yields the parts of PHP's canonicalised version without building
// it: maximal runs of digits or of other alphanumeric characters.
type parts struct{ s string }

func (p *parts) next() (string, bool) {
	s := p.s
	i := 0
	for i < len(s) && !isAlnum(s[i]) {
		i++
	}
	if i == len(s) {
		p.s = ""
		return "", false
	}
	j := i + 1
	for j < len(s) && isAlnum(s[j]) && isDigit(s[j]) == isDigit(s[i]) {
		j++
	}
	p.s = s[j:]
	return s[i:j], true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
