package match

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb"
)

// intCmp orders decimal integers; enough to test the OSV walk itself.
type intCmp struct{}

func (intCmp) Compare(a, b string) (int, error) {
	x, err := strconv.Atoi(a)
	if err != nil {
		return 0, fmt.Errorf("bad version %q", a)
	}
	y, err := strconv.Atoi(b)
	if err != nil {
		return 0, fmt.Errorf("bad version %q", b)
	}
	switch {
	case x < y:
		return -1, nil
	case x > y:
		return 1, nil
	}
	return 0, nil
}

func TestAffects(t *testing.T) {
	rng := func(evs ...vulndb.Event) []vulndb.Range { return []vulndb.Range{{Scheme: "int", Events: evs}} }
	in := func(v string) vulndb.Event { return vulndb.Event{Introduced: v} }
	fx := func(v string) vulndb.Event { return vulndb.Event{Fixed: v} }
	la := func(v string) vulndb.Event { return vulndb.Event{LastAffected: v} }
	lim := func(v string) vulndb.Event { return vulndb.Event{Limit: v} }
	tests := []struct {
		name string
		a    vulndb.Affected
		v    string
		want bool
	}{
		{"no ranges no versions: all affected", vulndb.Affected{}, "5", true},
		{"below fix", vulndb.Affected{Ranges: rng(in("0"), fx("10"))}, "9", true},
		{"at fix", vulndb.Affected{Ranges: rng(in("0"), fx("10"))}, "10", false},
		{"above fix", vulndb.Affected{Ranges: rng(in("0"), fx("10"))}, "11", false},
		{"below introduced", vulndb.Affected{Ranges: rng(in("5"), fx("10"))}, "4", false},
		{"at introduced", vulndb.Affected{Ranges: rng(in("5"), fx("10"))}, "5", true},
		{"open ended", vulndb.Affected{Ranges: rng(in("5"))}, "500", true},
		{"last_affected equal", vulndb.Affected{Ranges: rng(in("0"), la("7"))}, "7", true},
		{"last_affected above", vulndb.Affected{Ranges: rng(in("0"), la("7"))}, "8", false},
		{"two branches, gap", vulndb.Affected{Ranges: rng(in("0"), fx("10"), in("20"), fx("23"))}, "15", false},
		{"two branches, second", vulndb.Affected{Ranges: rng(in("0"), fx("10"), in("20"), fx("23"))}, "21", true},
		{"unsorted events", vulndb.Affected{Ranges: rng(fx("23"), in("20"), fx("10"), in("0"))}, "21", true},
		{"limit caps", vulndb.Affected{Ranges: rng(in("0"), lim("8"))}, "8", false},
		{"limit star", vulndb.Affected{Ranges: rng(in("0"), lim("*"))}, "8", true},
		{"explicit version", vulndb.Affected{Versions: []string{"3", "4"}}, "4", true},
		{"explicit version miss", vulndb.Affected{Versions: []string{"3", "4"}}, "5", false},
		{"malformed explicit version ignored", vulndb.Affected{Versions: []string{"x", "4"}}, "4", true},
		{"versions or ranges", vulndb.Affected{Versions: []string{"3"}, Ranges: rng(in("10"))}, "11", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := affects(intCmp{}, tt.v, &tt.a)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("affects(%s) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

func TestAffectsBadEvent(t *testing.T) {
	a := vulndb.Affected{Ranges: []vulndb.Range{{Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "bad"}}}}}
	if _, err := affects(intCmp{}, "1", &a); err == nil {
		t.Fatal("want an error for a malformed fixed version")
	}
}

func TestNormalizePyPI(t *testing.T) {
	for in, want := range map[string]string{
		"Django": "django", "zope.interface": "zope-interface", "Foo__Bar--baz": "foo-bar-baz", "a._-b": "a-b",
	} {
		if got := NormalizePyPI(in); got != want {
			t.Errorf("NormalizePyPI(%q) = %q, want %q", in, got, want)
		}
	}
}
