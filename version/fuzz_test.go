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
// panic and that where all three versions parse the comparer is a total
// order as the matcher needs one (it sorts range events with it): a
// version equals itself, Compare(a, b) = -Compare(b, a), and a ≤ b ≤ c
// implies a ≤ c.
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
			bc, err := cmp.Compare(b, c)
			if err != nil {
				continue
			}
			ac, err := cmp.Compare(a, c)
			if err != nil {
				t.Fatalf("%s: %q and %q parse, Compare(%q, %q): %v", s, a, c, a, c, err)
			}
			if ab <= 0 && bc <= 0 && ac > 0 || ab >= 0 && bc >= 0 && ac < 0 {
				t.Fatalf("%s: not transitive: %q vs %q = %d, %q vs %q = %d, %q vs %q = %d", s, a, b, ab, b, c, bc, a, c, ac)
			}
		}
	})
}
