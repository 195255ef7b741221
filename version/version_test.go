package version

import (
	"testing"

	"github.com/vigil-scanner/vigil/vulndb"
)

// TestFor checks that every scheme has a comparer that orders one known
// pair and rejects one invalid version.
func TestFor(t *testing.T) {
	for _, c := range []struct {
		scheme, lo, hi, bad string
	}{
		{vulndb.SchemeDeb, "1.0~rc1-1", "1:0.9-1", "a1.0"},
		{vulndb.SchemeRPM, "1.0-1.el9", "1.0-1.el9_1", ""},
		{vulndb.SchemeAPK, "1.0_rc1-r0", "1.0-r0", "1.0-1"},
		{vulndb.SchemeSemver, "1.0.0-rc.1", "1.0.0", "1.0"},
		{vulndb.SchemeGo, "v0.0.0-20191109021931-daa7c04131f5", "0.1.0", "v1.2-pre"},
		{vulndb.SchemeNpm, "1.2.3beta", "=v1.2.3", "1.2"},
		{vulndb.SchemePEP440, "1.0.dev1", "1.0a1", "1.0-foo-bar"},
		{vulndb.SchemeMaven, "1.0-SNAPSHOT", "1.0", ""},
		{vulndb.SchemeGem, "1.0.a", "1", "junk"},
		{vulndb.SchemeNuGet, "1.0.0-beta", "1.0", "1.0.0.0.0"},
		{vulndb.SchemeComposer, "dev-main", "1.0.0-dev", "1.0.0-meh"},
		{vulndb.SchemeCargo, "1.0.0-alpha.1", "1.0.0-alpha.beta", "01.0.0"},
		{vulndb.SchemeHex, "1.0.0-rc.1", "1.0.0+build", "1.0"},
		{vulndb.SchemePub, "1.0.0", "1.0.0+build", "1.0"},
	} {
		cmp, err := For(c.scheme)
		if err != nil {
			t.Fatalf("For(%q): %v", c.scheme, err)
		}
		if got, err := cmp.Compare(c.lo, c.hi); err != nil || got != -1 {
			t.Errorf("%s: Compare(%q, %q) = %d, %v; want -1", c.scheme, c.lo, c.hi, got, err)
		}
		if got, err := cmp.Compare(c.hi, c.lo); err != nil || got != 1 {
			t.Errorf("%s: Compare(%q, %q) = %d, %v; want 1", c.scheme, c.hi, c.lo, got, err)
		}
		if got, err := cmp.Compare(c.hi, c.hi); err != nil || got != 0 {
			t.Errorf("%s: Compare(%q, %q) = %d, %v; want 0", c.scheme, c.hi, c.hi, got, err)
		}
		if _, err := cmp.Compare(c.lo, c.bad); err == nil {
			t.Errorf("%s: Compare(%q, %q) accepted an invalid version", c.scheme, c.lo, c.bad)
		}
		if _, err := cmp.Compare(c.bad, c.lo); err == nil {
			t.Errorf("%s: Compare(%q, %q) accepted an invalid version", c.scheme, c.bad, c.lo)
		}
	}
	if _, err := For("nope"); err == nil {
		t.Error("For(nope) succeeded")
	}
}

func BenchmarkComparer(b *testing.B) {
	cmp, _ := For(vulndb.SchemeDeb)
	b.ReportAllocs()
	for b.Loop() {
		cmp.Compare("1:2.38.1-5+deb12u1", "2.38.1-5+deb12u2")
	}
}
