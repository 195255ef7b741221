package composer

import (
	"os"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/version/internal/reftest"
)

// normalized are composer/semver's VersionParserTest
// successfulNormalizedVersions.
var normalized = map[string]string{
	"1.0.0":                   "1.0.0.0",
	"1.2.3.4":                 "1.2.3.4",
	"1.0.0RC1dev":             "1.0.0.0-RC1-dev",
	"1.0.0-rC15-dev":          "1.0.0.0-RC15-dev",
	"1.0.0.RC.15-dev":         "1.0.0.0-RC15-dev",
	"1.0.0-rc1":               "1.0.0.0-RC1",
	"1.0.0.pl3-dev":           "1.0.0.0-patch3-dev",
	"1.0-dev":                 "1.0.0.0-dev",
	"0":                       "0.0.0.0",
	"10.4.13-beta":            "10.4.13.0-beta",
	"10.4.13beta2":            "10.4.13.0-beta2",
	"10.4.13beta.2":           "10.4.13.0-beta2",
	"v1.13.11-beta.0":         "1.13.11.0-beta0",
	"1.13.11.0-beta0":         "1.13.11.0-beta0",
	"10.4.13-b":               "10.4.13.0-beta",
	"10.4.13-b5":              "10.4.13.0-beta5",
	"v1.0.0":                  "1.0.0.0",
	"2010.01":                 "2010.01.0.0",
	"2010.01.02":              "2010.01.02.0",
	"2010.1.555":              "2010.1.555.0",
	"2010.10.200":             "2010.10.200.0",
	"v20100102":               "20100102",
	"2010-01-02":              "2010.01.02",
	"2012.06.07":              "2012.06.07.0",
	"2010-01-02.5":            "2010.01.02.5",
	"20100102-203040":         "20100102.203040",
	"20100102.x-dev":          "20100102.9999999.9999999.9999999-dev",
	"20100102.203040.x-dev":   "20100102.203040.9999999.9999999-dev",
	"20100102203040-10":       "20100102203040.10",
	"20100102-203040-p1":      "20100102.203040-patch1",
	"201903.0":                "201903.0",
	"201903.x-dev":            "201903.9999999.9999999.9999999-dev",
	"201903.0-p2":             "201903.0-patch2",
	"dev-master":              "dev-master",
	"master":                  "dev-master",
	"dev-trunk":               "dev-trunk",
	"1.x-dev":                 "1.9999999.9999999.9999999-dev",
	"dev-feature-foo":         "dev-feature-foo",
	"DEV-FOOBAR":              "dev-FOOBAR",
	"dev-feature/foo":         "dev-feature/foo",
	"dev-feature+issue-1":     "dev-feature+issue-1",
	"dev-master as 1.0.0":     "dev-master",
	"1.0.0+foo@dev":           "1.0.0.0",
	"1.0.0-beta.5+foo":        "1.0.0.0-beta5",
	"1.0.0+foo":               "1.0.0.0",
	"1.0.0-alpha.3.1+foo":     "1.0.0.0-alpha3.1",
	"1.0.0-alpha2.1+foo":      "1.0.0.0-alpha2.1",
	"1.0.0-alpha-2.1-3+foo":   "1.0.0.0-alpha2.1-3",
	"1.0.0+foo as 2.0":        "1.0.0.0",
	"00.01.03.04":             "00.01.03.04",
	"000.001.003.004":         "000.001.003.004",
	"0.000.103.204":           "0.000.103.204",
	"0700":                    "0700.0.0.0",
	"041.x-dev":               "041.9999999.9999999.9999999-dev",
	"dev-041.003":             "dev-041.003",
	"dev-1.0.0-dev<1.0.5-dev": "dev-1.0.0-dev<1.0.5-dev",
	"dev-foo bar":             "dev-foo bar",
	" 1.0.0":                  "1.0.0.0",
	"1.0.0 ":                  "1.0.0.0",
	"1.0.0-stable":            "1.0.0.0",
	"1.0.0-patch1":            "1.0.0.0-patch1",
	"1.0.0-p1":                "1.0.0.0-patch1",
	"1.0.0-a1":                "1.0.0.0-alpha1",
	"1-dev":                   "1.0.0.0-dev",
	"dev-load-varnish-only-when-used@dev as ^2.0@dev": "dev-load-varnish-only-when-used",
	"dev-load-varnish-only-when-used@stable":          "dev-load-varnish-only-when-used",
}

func TestNormalize(t *testing.T) {
	for in, want := range normalized {
		if got, err := Normalize(in); err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// invalid are VersionParserTest failingNormalizedVersions.
var invalid = []string{
	"", "a", "1.0.0-meh", "1.0.0.0.0", "feature-foo", "1.0 .2", "1.0.0-dev<1.0.5-dev",
	"1.0.0-dev<1.0.5", "^1.2", "~1.2", "1.2.3||1.3", ">1.0", "1.0.0-alpha.1-beta", "1.0,2.0",
	"1.0.0.dev.x", " as 1.0",
}

func TestInvalid(t *testing.T) {
	for _, s := range invalid {
		if n, err := Normalize(s); err == nil {
			t.Errorf("Normalize(%q) = %q, want error", s, n)
		}
	}
}

// order is ascending; entries in one group are equal. Numbered versions
// follow PHP's version_compare of the normalised forms (dev < alpha < beta
// < RC < release < patch); branches come first.
var order = [][]string{
	{"dev-bar"},
	{"dev-foo"},
	{"dev-master", "master"},
	{"0.9"},
	{"1.0.0-dev", "1.0-dev", "v1.0.0-dev"},
	{"1.0.0-alpha1-dev"},
	{"1.0.0-alpha1", "1.0.0-a1", "1.0.0alpha1", "1.0.0-alpha.1"},
	{"1.0.0-alpha2"},
	{"1.0.0-beta", "1.0.0-b"},
	{"1.0.0-beta2", "1.0.0-beta.2", "1.0.0-b2", "1.0.0.beta2"},
	{"1.0.0-beta10"},
	{"1.0.0-RC1", "1.0.0-rc1", "1.0.0RC1"},
	{"1.0.0", "1.0", "1", "v1.0.0", "1.0.0.0", "1.0.0+build", "1.0.0-stable", "1.0.0@stable"},
	{"1.0.0-patch1", "1.0.0-pl1", "1.0.0-p1"},
	{"1.0.0.1"},
	{"1.0.1-dev"},
	{"1.0.1"},
	{"1.5.0"},
	{"1.x-dev", "1.*-dev"},
	{"2.0"},
	{"10.0"},
	{"2010.01.02"},
	{"20100102"},
}

func TestOrder(t *testing.T) {
	reftest.Order(t, Compare, order)
}

// TestComposerAgrees normalises with composer/semver's VersionParser and
// orders with PHP's version_compare (Debian: php-cli,
// php-composer-semver), applying the same branch rule as Compare.
func TestComposerAgrees(t *testing.T) {
	php := testutil.RequireTool(t, "php")
	const autoload = "/usr/share/php/Composer/Semver/autoload.php"
	if _, err := os.Stat(autoload); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("composer/semver not installed; .ci/run should install php-composer-semver")
		}
		t.Skip("composer/semver not installed")
	}
	var all []string
	for _, g := range order {
		all = append(all, g...)
	}
	pairs := reftest.Pairs(all)
	for _, s := range invalid {
		pairs = append(pairs, [2]string{s, "1.0"})
	}
	for in := range normalized {
		pairs = append(pairs, [2]string{in, "1.0"})
	}
	const script = `require "` + autoload + `";
$p = new Composer\Semver\VersionParser();
foreach (explode("\n", stream_get_contents(STDIN)) as $l) {
  if ($l === "") continue;
  [$a, $b] = explode("\t", $l);
  try { $na = $p->normalize($a); $nb = $p->normalize($b); } catch (Exception $e) { echo "invalid\n"; continue; }
  $ba = str_starts_with($na, "dev-"); $bb = str_starts_with($nb, "dev-");
  if ($ba && $bb) { echo ($na <=> $nb), "\n"; }
  elseif ($ba) { echo "-1\n"; }
  elseif ($bb) { echo "1\n"; }
  else { echo version_compare($na, $nb), "\n"; }
}`
	got := reftest.Run(t, pairs, php, "-r", script)
	reftest.Check(t, pairs, got, Compare)
}

func TestVersionCompare(t *testing.T) {
	// PHP's documented version_compare behaviour.
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"5.2", "5.2.0", -1},
		{"1.0.0", "1.0.0", 0},
		{"1.0rc1", "1.0", -1},
		{"1.0", "1.0.1", -1},
		{"1.0-dev", "1.0-alpha", -1},
		{"1.0a", "1.0b", -1},
		{"1.0pl1", "1.0", 1},
		{"1.0-foo", "1.0-dev", -1}, // unknown strings sort first
		{"1.0.0.0", "1.0.0.0-dev", 1},
		{"1.0-p1", "1.0-pl1", 0},
		{"1_0", "1.0", 0},
		{"1+0", "1-0", 0},
		{"10", "9", 1},
	} {
		if got := VersionCompare(c.a, c.b); got != c.want {
			t.Errorf("VersionCompare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := VersionCompare(c.b, c.a); got != -c.want {
			t.Errorf("VersionCompare(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func FuzzComposer(f *testing.F) {
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
	})
}

func BenchmarkCompare(b *testing.B) {
	installed, _ := Parse("1.0.0-beta2")
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
