// Package reftest runs version pairs through a reference implementation
// (dpkg, node-semver, packaging, Gem::Version, composer/semver …) in one
// subprocess, so that a scheme's tests can show they agree with it.
package reftest

import (
	"cmp"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// Run starts name with args, writes one "a\tb" line per pair to its
// standard input and returns one whitespace-separated field of output per
// pair. The script must print -1, 0 or 1 (or anything else for "invalid").
func Run(t *testing.T, pairs [][2]string, name string, args ...string) []string {
	t.Helper()
	var in strings.Builder
	for _, p := range pairs {
		fmt.Fprintf(&in, "%s\t%s\n", p[0], p[1])
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("%s: %v: %s", name, err, ee.Stderr)
		}
		t.Fatalf("%s: %v", name, err)
	}
	got := strings.Fields(string(out))
	if len(got) != len(pairs) {
		t.Fatalf("%s printed %d results for %d pairs", name, len(got), len(pairs))
	}
	return got
}

// Check compares each result of Run with compare's and reports
// disagreements; compare returns an error for an invalid version, which
// must match a non-numeric result.
func Check(t *testing.T, pairs [][2]string, got []string, compare func(a, b string) (int, error)) {
	t.Helper()
	for i, p := range pairs {
		c, err := compare(p[0], p[1])
		want := fmt.Sprint(c)
		if err != nil {
			want = "invalid"
		}
		ref := got[i]
		if ref != "-1" && ref != "0" && ref != "1" {
			ref = "invalid"
		}
		if ref != want {
			t.Errorf("compare(%q, %q): reference says %s, we say %s", p[0], p[1], got[i], want)
		}
	}
}

// Pairs returns every ordered pair of the given versions.
func Pairs(versions []string) [][2]string {
	var out [][2]string
	for _, a := range versions {
		for _, b := range versions {
			out = append(out, [2]string{a, b})
		}
	}
	return out
}

// Expect checks that compare(a, b) is want and that compare(b, a) is
// -want: every comparer must be antisymmetric.
func Expect(t testing.TB, compare func(a, b string) (int, error), a, b string, want int) {
	t.Helper()
	for _, c := range []struct {
		x, y string
		want int
	}{{a, b, want}, {b, a, -want}} {
		got, err := compare(c.x, c.y)
		if err != nil {
			t.Errorf("Compare(%q, %q): %v", c.x, c.y, err)
			return
		}
		if got != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.x, c.y, got, c.want)
		}
	}
}

// Order checks compare on every pair of versions from groups, which are
// listed lowest first; the versions of one group are equal.
func Order(t testing.TB, compare func(a, b string) (int, error), groups [][]string) {
	t.Helper()
	for i, gi := range groups {
		for j, gj := range groups {
			for _, a := range gi {
				for _, b := range gj {
					got, err := compare(a, b)
					if err != nil {
						t.Fatalf("Compare(%q, %q): %v", a, b, err)
					}
					if want := cmp.Compare(i, j); got != want {
						t.Errorf("Compare(%q, %q) = %d, want %d", a, b, got, want)
					}
				}
			}
		}
	}
}
