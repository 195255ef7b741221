package osv

import (
	"regexp"
	"strings"

	"github.com/vigil-scanner/vigil/vulndb"
)

// languages maps OSV language ecosystems to vigil version schemes. The
// ecosystem name is kept as OSV spells it.
var languages = map[string]string{
	"Go":        vulndb.SchemeGo,
	"npm":       vulndb.SchemeNpm,
	"PyPI":      vulndb.SchemePEP440,
	"Maven":     vulndb.SchemeMaven,
	"crates.io": vulndb.SchemeCargo,
	"RubyGems":  vulndb.SchemeGem,
	"NuGet":     vulndb.SchemeNuGet,
	"Packagist": vulndb.SchemeComposer,
	"Pub":       vulndb.SchemePub,
	"Hex":       vulndb.SchemeHex,
	"SwiftURL":  vulndb.SchemeSemver,
}

// DefaultEcosystems are the osv.dev ecosystem directories loaded by the
// "osv" source when the mirror has no ecosystems.txt: every directory
// whose records vigil can map.
var DefaultEcosystems = []string{
	"Go", "npm", "PyPI", "Maven", "crates.io", "RubyGems", "NuGet", "Packagist", "Pub", "Hex", "SwiftURL",
	"Alpine", "Debian", "Ubuntu", "AlmaLinux", "Rocky Linux", "Red Hat", "SUSE", "openSUSE",
	"Wolfi", "Chainguard", "Azure Linux", "Photon OS",
}

// supportedDir reports whether records of an osv.dev ecosystem directory
// can be mapped.
func supportedDir(dir string) bool {
	for _, d := range DefaultEcosystems {
		if d == dir {
			return true
		}
	}
	return false
}

// target is where one OSV affected[] entry goes in vigil's model.
type target struct {
	ecosystem string // vigil ecosystem key
	scheme    string
	variant   string // appended to the source name, e.g. ":Pro" for Ubuntu Pro
}

var (
	releaseNum = regexp.MustCompile(`\d+(\.\d+)?`)
	suseVer    = regexp.MustCompile(`(\d+)(?:[ .-]SP(\d+)|\.(\d+))?`)
)

// mapEcosystem maps an OSV affected[].package.ecosystem string to a vigil
// ecosystem key and scheme. ok is false for ecosystems vigil does not
// match (Linux, Android, GIT-only ecosystems, unknown distributions).
func mapEcosystem(eco string) (t target, ok bool) {
	if s, ok := languages[eco]; ok {
		return target{ecosystem: eco, scheme: s}, true
	}
	family, rest, _ := strings.Cut(eco, ":")
	switch family {
	case "Alpine": // "Alpine:v3.19"
		rel := strings.TrimPrefix(rest, "v")
		if !releaseNum.MatchString(rel) {
			return target{}, false
		}
		return target{ecosystem: "alpine:" + rel, scheme: vulndb.SchemeAPK}, true
	case "Debian": // "Debian:12", "Debian:sid"
		if rest == "" {
			return target{}, false
		}
		return target{ecosystem: "debian:" + rest, scheme: vulndb.SchemeDeb}, true
	case "Ubuntu": // "Ubuntu:22.04:LTS", "Ubuntu:Pro:18.04:LTS", "Ubuntu:Pro:FIPS-updates:20.04:LTS"
		var rel string
		var variant []string
		for _, part := range strings.Split(rest, ":") {
			switch {
			case part == "LTS" || part == "":
			case releaseNum.FindString(part) == part:
				rel = part
			default:
				variant = append(variant, part)
			}
		}
		if rel == "" {
			return target{}, false
		}
		t := target{ecosystem: "ubuntu:" + rel, scheme: vulndb.SchemeDeb}
		if len(variant) > 0 {
			t.variant = ":" + strings.Join(variant, ":")
		}
		return t, true
	case "AlmaLinux":
		return rpmRelease("alma", rest)
	case "Rocky Linux":
		return rpmRelease("rocky", rest)
	case "Azure Linux":
		return rpmRelease("azurelinux", rest)
	case "Photon OS":
		return rpmRelease("photon", rest)
	case "Red Hat": // "Red Hat:enterprise_linux:9::appstream", "Red Hat:rhel_eus:8.6::baseos"
		fields := strings.Split(rest, ":")
		if len(fields) < 2 {
			return target{}, false
		}
		major, _, _ := strings.Cut(fields[1], ".")
		if major == "" || strings.Trim(major, "0123456789") != "" {
			return target{}, false
		}
		return target{ecosystem: "redhat:" + major, scheme: vulndb.SchemeRPM}, true
	case "SUSE", "openSUSE":
		return mapSUSE(family, rest)
	case "Wolfi", "Chainguard":
		if rest != "" {
			return target{}, false
		}
		return target{ecosystem: strings.ToLower(family), scheme: vulndb.SchemeAPK}, true
	}
	return target{}, false
}

func rpmRelease(family, rel string) (target, bool) {
	if rel == "" || releaseNum.FindString(rel) != rel {
		return target{}, false
	}
	return target{ecosystem: family + ":" + rel, scheme: vulndb.SchemeRPM}, true
}

// mapSUSE maps SUSE product names: "SUSE Linux Enterprise Server 15 SP5"
// and module products "SUSE Linux Enterprise Module for Basesystem 15 SP3"
// → "sles:15.5"/"sles:15.3"; "SUSE Linux Enterprise Micro 5.5" →
// "sle-micro:5.5"; "openSUSE Leap 15.5" → "opensuse-leap:15.5";
// Tumbleweed → "opensuse-tumbleweed".
func mapSUSE(family, product string) (target, bool) {
	t := target{scheme: vulndb.SchemeRPM}
	switch {
	case strings.Contains(product, "Tumbleweed"):
		t.ecosystem = "opensuse-tumbleweed"
		return t, true
	case strings.Contains(product, "Leap Micro"):
		t.ecosystem = "opensuse-leap-micro"
	case strings.Contains(product, "Leap"):
		t.ecosystem = "opensuse-leap"
	case strings.Contains(product, "Micro"):
		t.ecosystem = "sle-micro"
	case family == "SUSE" && strings.Contains(product, "Enterprise"):
		t.ecosystem = "sles"
	default:
		return target{}, false
	}
	m := suseVer.FindStringSubmatch(product)
	if m == nil {
		return target{}, false
	}
	minor := "0"
	if m[2] != "" {
		minor = m[2]
	} else if m[3] != "" {
		minor = m[3]
	}
	t.ecosystem += ":" + m[1] + "." + minor
	return t, true
}

var pep503 = regexp.MustCompile(`[-_.]+`)

// canonicalName returns the package name vigil stores for ecosystem eco.
func canonicalName(eco, name string) string {
	switch eco {
	case "PyPI":
		return strings.ToLower(pep503.ReplaceAllString(name, "-"))
	case "Maven": // "group:artifact" with an optional ":repository-url" suffix
		parts := strings.SplitN(name, ":", 3)
		if len(parts) >= 2 {
			return parts[0] + ":" + parts[1]
		}
	case "Packagist": // "vendor/package" with an optional ":repository-url" suffix
		n, _, _ := strings.Cut(name, ":")
		return strings.ToLower(n)
	case "NuGet": // package ids are case-insensitive
		return strings.ToLower(name)
	}
	return name
}
