package version

import (
	"testing"

	"github.com/vigil-scanner/vigil/vulndb"
)

// schemes lists every scheme For knows.
var schemes = []string{
	vulndb.SchemeDeb, vulndb.SchemeRPM, vulndb.SchemeAPK, vulndb.SchemeSemver, vulndb.SchemeGo, vulndb.SchemeNpm,
	vulndb.SchemePEP440, vulndb.SchemeMaven, vulndb.SchemeGem, vulndb.SchemeNuGet, vulndb.SchemeComposer,
	vulndb.SchemeCargo, vulndb.SchemeHex, vulndb.SchemePub,
}

// FuzzOrder checks, for every scheme, that parsing and comparing never
// panic, that parsing does not depend on the other operand (a version that
// parses against b parses against c), and that where both parse a version
// equals itself and Compare(a, b) = -Compare(b, a).
//
// Transitivity is not checked: the ecosystems' own orders do not all have
// it, and vigil compares as they do. Maven's ComparableVersion, for one,
// orders "x0a" < "0.0a0" (a combination item sorts before a list) and
// "0.0a0" < "0" (alpha sorts before a release) but "x0a" > "0" (an unknown
// qualifier sorts after a release); testdata/fuzz/FuzzOrder keeps that
// input.
func FuzzOrder(f *testing.F) {
	f.Add("1.0.0", "1.0.0-rc.1", "2:1.0-1")
	f.Add("1:2.38.1-5+deb12u1", "2.38.1-5", "2.38~rc1-1")
	f.Add("v0.0.0-20191109021931-daa7c04131f5", "v1.2.3+incompatible", "1.0a1.post2.dev3")
	f.Add("1.0_rc1-r0", "1.0-r0", "1.0.0.0.0")
	f.Add("dev-main", "1.0.0-beta2", "1.0-SNAPSHOT")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for _, s := range schemes {
			cmp, err := For(s)
			if err != nil {
				t.Fatal(err)
			}
			ab, errAB := cmp.Compare(a, b)
			ba, errBA := cmp.Compare(b, a)
			if (errAB == nil) != (errBA == nil) {
				t.Fatalf("%s: Compare(%q, %q) error %v, reversed %v", s, a, b, errAB, errBA)
			}
			if errAB != nil {
				continue
			}
			if ab != -ba || ab < -1 || ab > 1 {
				t.Fatalf("%s: Compare(%q, %q) = %d, reversed %d", s, a, b, ab, ba)
			}
			if aa, err := cmp.Compare(a, a); err != nil || aa != 0 {
				t.Fatalf("%s: Compare(%q, %q) = %d, %v", s, a, a, aa, err)
			}
			_, errBC := cmp.Compare(b, c)
			_, errAC := cmp.Compare(a, c)
			if (errBC == nil) != (errAC == nil) {
				t.Fatalf("%s: %q and %q both parse, but Compare(%q, %q): %v and Compare(%q, %q): %v", s, a, b, b, c, errBC, a, c, errAC)
			}
		}
	})
}
