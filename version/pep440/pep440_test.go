package pep440

import (
	"os"
	"os/exec"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/version/internal/reftest"
)

// order is the sorted VERSIONS list of pypa/packaging's tests
// (tests/test_version.py), which follows PEP 440's "Summary of permitted
// suffixes and relative ordering"; entries in one group are equal.
var order = [][]string{
	{"0.9"},
	{"1.0.dev456", "1.0dev456", "1.0.dev.456", "1.0-dev456", "1.0_DEV456", "1.0.dev0456"},
	{"1.0a1", "1.0.a1", "1.0a.1", "1.0a-1", "1.0-a1", "1.0alpha1", "1.0-alpha.1", "1.0_ALPHA_1", "v1.0a1"},
	{"1.0a2.dev456"},
	{"1.0a12.dev456"},
	{"1.0a12"},
	{"1.0b1.dev456"},
	{"1.0b2", "1.0beta2", "1.0.b.2"},
	{"1.0b2.post345.dev456"},
	{"1.0b2.post345", "1.0b2_post345", "1.0b2-345", "1.0b2post345", "1.0b2.rev345", "1.0b2r345"},
	{"1.0b2-346"},
	{"1.0c1.dev456"},
	{"1.0c1", "1.0rc1", "1.0pre1", "1.0preview1", "1.0-RC-1", "1.0.c.1"},
	{"1.0rc2"},
	{"1.0c3"},
	{"1.0", "1.0.0", "1.0.0.0", "v1.0", "V1.0", " 1.0 ", "1.00", "0!1.0", "00!1.0"},
	{"1.0.post", "1.0.post0", "1.0.post-", "1.0-r.", "1.0-0", "1.0post", "1.0.r", "1.0-rev"},
	{"1.0.post456.dev34"},
	{"1.0.post456", "1.0-456", "1.0.POST456", "1.0_post_456"},
	{"1.0.1"},
	{"1.1.dev1"},
	{"1.2"},
	{"1.2+123abc"},
	{"1.2+123abc456"},
	{"1.2+abc", "1.2+ABC"},
	{"1.2+abc123"},
	{"1.2+abc123def"},
	{"1.2+1234.abc", "1.2+1234-abc", "1.2+1234_ABC", "1.2+01234.abc"},
	{"1.2+123456"},
	{"1.2.r32+123456"},
	{"1.2.rev33+123456"},
	{"1.10"},
	{"2.0.dev1"},
	{"2.0"},
	{"10.0"},
	{"1!0.1"},
	{"1!1.0.dev456"},
	{"1!1.0a1"},
	{"1!1.0"},
	{"1!1.0.post456"},
	{"1!1.2+abc"},
	{"1!1.2+123456"},
	{"2!0.1"},
	{"18446744073709551616!0"},
}

func TestOrder(t *testing.T) {
	reftest.Order(t, Compare, order)
}

// invalid are strings packaging.version.Version rejects.
var invalid = []string{
	"", "french toast", "1.0-foo-bar", "1.0+", "1.0+_foo", "1.0+foo..bar",
	"1.0+foo-", "1.0.", "1.0-", "1!", "!1.0", "1.0a1a", "1.0+abc def",
	"v", "vv1.0", "1.0.a.b", "1.0.post.post", "1.0_", "a1.0",
	"1.0 beta", "1..0", ".1.0", "1.0a1.a2", "1.0.dev1.post1", "1.0+é",
}

func TestInvalid(t *testing.T) {
	for _, s := range invalid {
		if v, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %+v, want error", s, v)
		}
	}
}

func TestString(t *testing.T) {
	// Normal forms from PEP 440's "Normalization" section.
	for in, want := range map[string]string{
		"1.0":                "1.0",
		"v1.0.0":             "1.0.0",
		"1.0A1":              "1.0a1",
		"1.0-alpha":          "1.0a0",
		"1.0.beta.2":         "1.0b2",
		"1.0C1":              "1.0rc1",
		"1.0preview1":        "1.0rc1",
		"1.0-1":              "1.0.post1",
		"1.0-r":              "1.0.post0",
		"1.0_dev":            "1.0.dev0",
		"1.0+Ubuntu-1_a":     "1.0+ubuntu.1.a",
		"01!02.003":          "1!2.3",
		"1.0a1.post2.dev3+x": "1.0a1.post2.dev3+x",
	} {
		v, err := Parse(in)
		if err != nil || v.String() != want {
			t.Errorf("Parse(%q).String() = %q, %v; want %q", in, v.String(), err, want)
		}
	}
}

// python finds a Python with pypa/packaging (Debian: python3-packaging).
func python(t *testing.T) string {
	for _, p := range []string{testutil.RequireTool(t, "python3"), "/usr/bin/python3"} {
		if _, err := os.Stat(p); err == nil && exec.Command(p, "-c", "import packaging.version").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("python3 with packaging not found; .ci/run should install python3-packaging")
	}
	t.Skip("python3 packaging module not installed")
	return ""
}

// TestPackagingAgrees checks every pair of the order table, and the
// invalid strings, against pypa/packaging.
func TestPackagingAgrees(t *testing.T) {
	py := python(t)
	var all []string
	for _, g := range order {
		all = append(all, g...)
	}
	pairs := reftest.Pairs(all)
	for _, s := range invalid {
		pairs = append(pairs, [2]string{s, "1.0"})
	}
	const script = `import sys
from packaging.version import Version, InvalidVersion
for line in sys.stdin.read().split("\n"):
    if not line:
        continue
    a, b = line.split("\t")
    try:
        x, y = Version(a), Version(b)
        print((x > y) - (x < y))
    except InvalidVersion:
        print("invalid")
`
	got := reftest.Run(t, pairs, py, "-c", script)
	reftest.Check(t, pairs, got, Compare)
}

func FuzzPEP440(f *testing.F) {
	for _, g := range order {
		f.Add(g[0], g[len(g)-1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		x, errA := Compare(a, b)
		y, errB := Compare(b, a)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("errors differ: %v, %v", errA, errB)
		}
		if x != -y {
			t.Fatalf("Compare(%q, %q) = %d but reversed = %d", a, b, x, y)
		}
		if errA == nil {
			// The normal form parses to an equal version.
			va, _ := Parse(a)
			vn, err := Parse(va.String())
			if err != nil || vn.Compare(va) != 0 {
				t.Fatalf("normal form %q of %q: %v", va.String(), a, err)
			}
		}
	})
}

func BenchmarkCompare(b *testing.B) {
	installed, _ := Parse("1.0.post456")
	var events []Version
	for _, g := range order {
		v, _ := Parse(g[0])
		events = append(events, v)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range events {
			installed.Compare(e)
		}
	}
}
