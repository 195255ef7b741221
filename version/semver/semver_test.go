package semver

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	modsemver "golang.org/x/mod/semver"

	"github.com/vigil-scanner/vigil/internal/testutil"
)

// checkOrdered checks every pair of an ascending list; entries in one
// inner slice are equal.
func checkOrdered(t *testing.T, parse func(string) (Version, error), cmp func(Version, Version) int, list [][]string) {
	t.Helper()
	for i, gi := range list {
		for j, gj := range list {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			for _, a := range gi {
				for _, b := range gj {
					va, err := parse(a)
					if err != nil {
						t.Fatalf("parse(%q): %v", a, err)
					}
					vb, err := parse(b)
					if err != nil {
						t.Fatalf("parse(%q): %v", b, err)
					}
					if got := cmp(va, vb); got != want {
						t.Errorf("compare(%q, %q) = %d, want %d", a, b, got, want)
					}
				}
			}
		}
	}
}

// semverOrder is the precedence example of SemVer 2.0.0 §11 plus §10
// (build metadata does not count).
var semverOrder = [][]string{
	{"0.0.0-0"},
	{"0.0.0"},
	{"0.0.1"},
	{"0.9.9"},
	{"0.10.0"},
	{"1.0.0-0"},
	{"1.0.0-1"},
	{"1.0.0-2"},
	{"1.0.0-10"},
	{"1.0.0-99999999999999999999999"},
	{"1.0.0--"},
	{"1.0.0-0a"},
	{"1.0.0-A"},
	{"1.0.0-alpha", "1.0.0-alpha+001"},
	{"1.0.0-alpha.1"},
	{"1.0.0-alpha.beta"},
	{"1.0.0-beta"},
	{"1.0.0-beta.2"},
	{"1.0.0-beta.11"},
	{"1.0.0-rc.1"},
	{"1.0.0", "1.0.0+20130313144700", "1.0.0+exp.sha.5114f85", "v1.0.0"},
	{"2.0.0"},
	{"2.1.0"},
	{"2.1.1"},
	{"18446744073709551615.0.0"},
	{"18446744073709551616.0.0"},
}

func TestSemverOrder(t *testing.T) {
	checkOrdered(t, Parse, Version.Compare, semverOrder)
}

func TestSemverInvalid(t *testing.T) {
	// SemVer 2.0.0 §2 (no leading zeros), §9 (pre-release identifiers
	// non-empty, numeric without leading zeros), §10 (build identifiers
	// non-empty), and the BNF.
	for _, s := range []string{
		"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-01",
		"1.2.3-", "1.2.3+", "1.2.3-a..b", "1.2.3+a..b", "1.2.3-a_b", "1.2.3 ",
		" 1.2.3", "=1.2.3", "vv1.2.3", "V1.2.3", "1.2.3beta", "-1.2.3", "1.2.-3",
		"1.2.3-é", "1..3", "a.b.c",
	} {
		if v, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %v, want error", s, v)
		}
	}
	for _, s := range []string{"1.2.3-0", "1.2.3-0a", "1.2.3-00a", "1.2.3+001", "1.2.3-x-y-z.--", "1.2.3----RC-SNAPSHOT.12.9.1--.12+788"} {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}

// goOrder follows golang.org/x/mod/semver's tests (semver_test.go) and
// the module version rules of the go command (pseudo-versions,
// +incompatible).
var goOrder = [][]string{
	{"v0.0.0-20191109021931-daa7c04131f5", "0.0.0-20191109021931-daa7c04131f5"},
	{"v0.0.0"},
	{"v0.1.0"},
	{"v1.0.0-alpha"},
	{"v1.0.0-alpha.1"},
	{"v1.0.0-alpha.beta"},
	{"v1.0.0-beta"},
	{"v1.0.0-beta.2"},
	{"v1.0.0-beta.11"},
	{"v1.0.0-rc.1"},
	{"v1", "v1.0", "v1.0.0", "1", "1.0", "1.0.0"},
	{"v1.2", "v1.2.0"},
	{"v1.2.3-456"},
	{"v1.2.3-456.789"},
	{"v1.2.3-456-789"},
	{"v1.2.3-456a"},
	{"v1.2.3-pre", "v1.2.3-pre+meta"},
	{"v1.2.3-pre.0.20191109021931-daa7c04131f5"},
	{"v1.2.3-pre.1"},
	{"v1.2.3-zzz"},
	{"v1.2.3", "v1.2.3+meta", "v1.2.3+meta-pre", "v1.2.3+meta-pre.sha.256a"},
	{"v1.2.4-0.20191109021931-daa7c04131f5"},
	{"v1.2.4"},
	{"v1.20.99"},
	{"1.21.0-0"}, // the lowest pre-release of 1.21.0
	{"1.21.0-0.20230101000000-abcdefabcdef"},
	{"1.21.0-alpha"},
	{"1.21.0"},
	{"v2.0.0", "v2.0.0+incompatible", "2.0.0+incompatible"},
	{"v2.0.1-0.20200101000000-abcdefabcdef+incompatible"},
	{"v2.0.1+incompatible"},
}

func TestGoOrder(t *testing.T) {
	checkOrdered(t, ParseGo, Version.Compare, goOrder)
}

// TestGoAgreesWithXMod checks every pair of goOrder against
// golang.org/x/mod/semver, the reference implementation.
func TestGoAgreesWithXMod(t *testing.T) {
	var all []string
	for _, g := range goOrder {
		all = append(all, g...)
	}
	for _, a := range all {
		for _, b := range all {
			va, _ := ParseGo(a)
			vb, _ := ParseGo(b)
			if got, want := va.Compare(vb), modsemver.Compare(vee(a), vee(b)); got != want {
				t.Errorf("Compare(%q, %q) = %d, x/mod says %d", a, b, got, want)
			}
		}
	}
}

func vee(s string) string {
	if strings.HasPrefix(s, "v") {
		return s
	}
	return "v" + s
}

func TestGoInvalid(t *testing.T) {
	// From x/mod/semver's test table: shorthands take no suffix.
	for _, s := range []string{
		"bad", "v1-alpha.beta.gamma", "v1-pre", "v1+meta", "v1-pre+meta",
		"v1.2-pre", "v1.2+meta", "v1.2-pre+meta", "v01.2.3", "v1.2.3-01", "",
		"v", "vv1.2.3", "v1.2.3.4", "go1.21",
	} {
		if _, err := ParseGo(s); err == nil {
			t.Errorf("ParseGo(%q) succeeded, want error", s)
		}
		if modsemver.IsValid(vee(s)) && s != "" {
			t.Errorf("x/mod accepts %q; the table is wrong", s)
		}
	}
}

// npmGreater are node-semver's comparison fixtures
// (test/fixtures/comparisons.js): the first is greater than the second,
// parsed loosely.
var npmGreater = [][2]string{
	{"0.0.0", "0.0.0-foo"}, {"0.0.1", "0.0.0"}, {"1.0.0", "0.9.9"},
	{"0.10.0", "0.9.0"}, {"0.99.0", "0.10.0"}, {"2.0.0", "1.2.3"},
	{"v0.0.0", "0.0.0-foo"}, {"v0.0.1", "0.0.0"}, {"v1.0.0", "0.9.9"},
	{"v0.10.0", "0.9.0"}, {"v0.99.0", "0.10.0"}, {"v2.0.0", "1.2.3"},
	{"0.0.0", "v0.0.0-foo"}, {"0.0.1", "v0.0.0"}, {"1.0.0", "v0.9.9"},
	{"0.10.0", "v0.9.0"}, {"0.99.0", "v0.10.0"}, {"2.0.0", "v1.2.3"},
	{"1.2.3", "1.2.3-asdf"}, {"1.2.3", "1.2.3-4"}, {"1.2.3", "1.2.3-4-foo"},
	{"1.2.3-5-foo", "1.2.3-5"}, {"1.2.3-5", "1.2.3-4"},
	{"1.2.3-5-foo", "1.2.3-5-Foo"}, {"3.0.0", "2.7.2+asdf"},
	{"1.2.3-a.10", "1.2.3-a.5"}, {"1.2.3-a.b", "1.2.3-a.5"},
	{"1.2.3-a.b", "1.2.3-a"}, {"1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100"},
	{"1.2.3-r2", "1.2.3-r100"}, {"1.2.3-r100", "1.2.3-R2"},
	// loose-only spellings
	{"1.2.3", "1.2.3beta"}, {"1.2.4beta", "1.2.3"}, {"01.02.04", "1.2.3"},
}

// npmEqual are node-semver's equality fixtures (test/fixtures/equality.js).
var npmEqual = [][2]string{
	{"1.2.3", "v1.2.3"}, {"1.2.3", "=1.2.3"}, {"1.2.3", "v 1.2.3"},
	{"1.2.3", "= 1.2.3"}, {"1.2.3", " v1.2.3"}, {"1.2.3", " =1.2.3"},
	{"1.2.3", " v 1.2.3"}, {"1.2.3", " = 1.2.3"}, {"1.2.3-0", "v1.2.3-0"},
	{"1.2.3-0", "=1.2.3-0"}, {"1.2.3-0", "v 1.2.3-0"}, {"1.2.3-0", "= 1.2.3-0"},
	{"1.2.3-0", " v1.2.3-0"}, {"1.2.3-0", " =1.2.3-0"}, {"1.2.3-0", " v 1.2.3-0"},
	{"1.2.3-0", " = 1.2.3-0"}, {"1.2.3-1", "v1.2.3-1"}, {"1.2.3-1", "=1.2.3-1"},
	{"1.2.3-1", "v 1.2.3-1"}, {"1.2.3-1", "= 1.2.3-1"}, {"1.2.3-1", " v1.2.3-1"},
	{"1.2.3-1", " =1.2.3-1"}, {"1.2.3-1", " v 1.2.3-1"}, {"1.2.3-1", " = 1.2.3-1"},
	{"1.2.3-beta", "v1.2.3-beta"}, {"1.2.3-beta", "=1.2.3-beta"},
	{"1.2.3-beta", "v 1.2.3-beta"}, {"1.2.3-beta", "= 1.2.3-beta"},
	{"1.2.3-beta", " v1.2.3-beta"}, {"1.2.3-beta", " =1.2.3-beta"},
	{"1.2.3-beta", " v 1.2.3-beta"}, {"1.2.3-beta", " = 1.2.3-beta"},
	{"1.2.3-beta+build", " = 1.2.3-beta+otherbuild"},
	{"1.2.3+build", " = 1.2.3+otherbuild"},
	{"1.2.3-beta+build", "1.2.3-beta+otherbuild"},
	{"1.2.3+build", "1.2.3+otherbuild"}, {"  v1.2.3+build", "1.2.3+otherbuild"},
	// loose-only spellings
	{"1.2.3-01", "1.2.3-1"}, {"1.2.3beta", "1.2.3-beta"},
}

func TestNpm(t *testing.T) {
	check := func(a, b string, want int) {
		va, err := ParseLoose(a)
		if err != nil {
			t.Errorf("ParseLoose(%q): %v", a, err)
			return
		}
		vb, err := ParseLoose(b)
		if err != nil {
			t.Errorf("ParseLoose(%q): %v", b, err)
			return
		}
		if got := va.Compare(vb); got != want {
			t.Errorf("Compare(%q, %q) = %d, want %d", a, b, got, want)
		}
	}
	for _, p := range npmGreater {
		check(p[0], p[1], 1)
		check(p[1], p[0], -1)
	}
	for _, p := range npmEqual {
		check(p[0], p[1], 0)
		check(p[1], p[0], 0)
	}
	// node-semver's invalid-versions fixtures, loose.
	for _, s := range []string{
		"1.2.3.4", "NOT VALID", "1.2", "", "9007199254740992.0.0",
		"0.9007199254740992.0", "1.2.3+", "1.2.3-a..b", "x.2.3", "1.2.3-a_b",
	} {
		if v, err := ParseLoose(s); err == nil {
			t.Errorf("ParseLoose(%q) = %v, want error", s, v)
		}
	}
}

// TestNpmAgrees runs the npm fixtures through the node-semver bundled with
// the installed npm.
func TestNpmAgrees(t *testing.T) {
	node := testutil.RequireTool(t, "node")
	npm := testutil.RequireTool(t, "npm")
	root, err := exec.Command(npm, "root", "-g").Output()
	if err != nil {
		t.Skipf("npm root -g: %v", err)
	}
	mod := filepath.Join(strings.TrimSpace(string(root)), "npm", "node_modules", "semver")
	var pairs [][2]string
	pairs = append(pairs, npmGreater...)
	pairs = append(pairs, npmEqual...)
	var in strings.Builder
	for _, p := range pairs {
		fmt.Fprintf(&in, "%s\t%s\n", p[0], p[1])
	}
	script := `const s = require(process.argv[1]);
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
for (const l of lines) { const [a, b] = l.split("\t"); console.log(s.compare(a, b, true)); }`
	cmd := exec.Command(node, "-e", script, mod)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("node-semver not usable: %v", err)
	}
	got := strings.Fields(string(out))
	for i, p := range pairs {
		va, _ := ParseLoose(p[0])
		vb, _ := ParseLoose(p[1])
		if want := fmt.Sprint(va.Compare(vb)); i >= len(got) || got[i] != want {
			t.Errorf("node-semver compare(%q, %q) disagrees with %s", p[0], p[1], want)
		}
	}
}

// pubOrder is pub_semver's compareTo test list (version_test.dart): build
// metadata sorts after its absence and is ordered.
var pubOrder = [][]string{
	{"1.0.0-alpha"}, {"1.0.0-alpha.1"}, {"1.0.0-beta.2"}, {"1.0.0-beta.11"},
	{"1.0.0-rc.1"}, {"1.0.0-rc.1+build.1"}, {"1.0.0"}, {"1.0.0+0.3.7"},
	{"1.3.7+build"}, {"1.3.7+build.2.b8f12d7"}, {"1.3.7+build.11.e0f985a"},
	{"2.0.0"}, {"2.1.0"}, {"2.2.0"}, {"2.11.0"}, {"2.11.1"},
}

func TestPub(t *testing.T) {
	checkOrdered(t, ParsePub, Version.ComparePub, pubOrder)
	for _, s := range []string{"1.2", "1.2.3beta", "v1.2.3", "1.2.3-", "1.2.3+"} {
		if _, err := ParsePub(s); err == nil {
			t.Errorf("ParsePub(%q) succeeded, want error", s)
		}
	}
	if v, err := ParsePub("01.2.3"); err != nil || v.String() != "1.2.3" {
		t.Errorf("ParsePub(01.2.3) = %v, %v", v, err)
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3": "1.2.3", "1.2.3-rc.1+b.2": "1.2.3-rc.1+b.2",
	} {
		if v, err := Parse(in); err != nil || v.String() != want {
			t.Errorf("Parse(%q).String() = %q, %v", in, v.String(), err)
		}
	}
	if v, _ := ParseGo("v1.2"); v.String() != "1.2.0" {
		t.Errorf("ParseGo(v1.2) = %v", v)
	}
}

// FuzzGo checks ParseGo and Compare against golang.org/x/mod/semver.
func FuzzGo(f *testing.F) {
	for _, g := range goOrder {
		f.Add(g[0], g[len(g)-1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		a, b = vee(a), vee(b)
		va, errA := ParseGo(a)
		if (errA == nil) != modsemver.IsValid(a) {
			t.Fatalf("ParseGo(%q) error %v, x/mod valid %v", a, errA, modsemver.IsValid(a))
		}
		vb, errB := ParseGo(b)
		if errA != nil || errB != nil {
			return
		}
		if got, want := va.Compare(vb), modsemver.Compare(a, b); got != want {
			t.Fatalf("Compare(%q, %q) = %d, x/mod %d", a, b, got, want)
		}
	})
}

func FuzzSemver(f *testing.F) {
	for _, p := range npmGreater {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, parse := range []func(string) (Version, error){Parse, ParseLoose, ParsePub} {
			va, errA := parse(a)
			vb, errB := parse(b)
			if errA != nil || errB != nil {
				continue
			}
			if x, y := va.Compare(vb), vb.Compare(va); x != -y {
				t.Fatalf("Compare(%q, %q) = %d but reversed = %d", a, b, x, y)
			}
			if x, y := va.ComparePub(vb), vb.ComparePub(va); x != -y {
				t.Fatalf("ComparePub(%q, %q) = %d but reversed = %d", a, b, x, y)
			}
		}
	})
}

func BenchmarkCompare(b *testing.B) {
	installed, _ := ParseGo("v1.2.3-pre.0.20191109021931-daa7c04131f5")
	var events []Version
	for _, g := range goOrder {
		v, _ := ParseGo(g[0])
		events = append(events, v)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range events {
			installed.Compare(e)
		}
	}
}
