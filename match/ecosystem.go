package match

import (
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/distro"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/vulndb"
)

// distroEcosystem returns the vulndb ecosystem key of an OS release
// ("debian:12", "alpine:3.19", "wolfi") and the version scheme of its
// packages, or ok=false when vigil has no way to name it.
func distroEcosystem(os *inventory.OS) (eco, scheme string, ok bool) {
	if os == nil || os.Family == "" {
		return "", "", false
	}
	v := os.Name
	switch os.Family {
	case "alpine":
		return "alpine:" + majorMinor(v), vulndb.SchemeAPK, v != ""
	case "wolfi", "chainguard":
		return os.Family, vulndb.SchemeAPK, true
	case "debian":
		return "debian:" + debianRelease(v), vulndb.SchemeDeb, v != ""
	case "ubuntu":
		return "ubuntu:" + majorMinor(v), vulndb.SchemeDeb, v != ""
	case "redhat", "centos", "rocky", "alma", "oracle", "fedora":
		// CentOS has no security feed of its own; it is matched against Red
		// Hat's data for the same major release, as every peer does.
		fam := os.Family
		if fam == "centos" {
			fam = "redhat"
		}
		return fam + ":" + major(v), vulndb.SchemeRPM, v != ""
	case "amazon":
		return "amazon:" + amazonRelease(v), vulndb.SchemeRPM, v != ""
	case "sles", "opensuse-leap", "photon", "azurelinux", "cbl-mariner":
		return os.Family + ":" + majorMinor(v), vulndb.SchemeRPM, v != ""
	case "opensuse-tumbleweed":
		return os.Family, vulndb.SchemeRPM, true
	}
	return "", "", false
}

// debianRelease maps a Debian OS name to the release the Debian tracker's
// records are keyed by: "12" and "12.5" → "12"; "sid" and "trixie/sid" →
// "sid" (testing and unstable images report no VERSION_ID, and their
// debian_version names the next codename followed by "/sid"); a bare
// codename such as "bookworm" → "12".
func debianRelease(v string) string {
	if v == "sid" || strings.HasSuffix(v, "/sid") {
		return "sid"
	}
	if r, ok := distro.DebianRelease(v); ok {
		return r
	}
	return major(v)
}

func major(v string) string {
	if i := strings.IndexAny(v, "./ "); i >= 0 {
		return v[:i]
	}
	return v
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

// amazonRelease maps "2", "2 (Karoo)", "2023", "2023.4.20240319" and
// "2018.03" (Amazon Linux 1) to the vulndb release names "2", "2023", "1".
func amazonRelease(v string) string {
	v = major(strings.TrimSpace(v))
	switch {
	case strings.HasPrefix(v, "2018"), strings.HasPrefix(v, "2017"), strings.HasPrefix(v, "2016"):
		return "1"
	}
	return v
}

// langEcosystem maps a package URL type to the OSV ecosystem name and the
// version scheme vigil compares it with.
func langEcosystem(purlType string) (eco, scheme string, ok bool) {
	switch purlType {
	case packageurl.TypeNPM:
		return "npm", vulndb.SchemeNpm, true
	case packageurl.TypePyPi:
		return "PyPI", vulndb.SchemePEP440, true
	case packageurl.TypeGolang:
		return "Go", vulndb.SchemeGo, true
	case packageurl.TypeMaven:
		return "Maven", vulndb.SchemeMaven, true
	case packageurl.TypeGem:
		return "RubyGems", vulndb.SchemeGem, true
	case packageurl.TypeCargo:
		return "crates.io", vulndb.SchemeCargo, true
	case packageurl.TypeComposer:
		return "Packagist", vulndb.SchemeComposer, true
	case packageurl.TypeNuget:
		return "NuGet", vulndb.SchemeNuGet, true
	case packageurl.TypePub:
		return "Pub", vulndb.SchemePub, true
	case packageurl.TypeHex:
		return "Hex", vulndb.SchemeHex, true
	}
	return "", "", false
}

// langPackageName is the name an ecosystem's advisories use for p, derived
// from its package URL: "@scope/name" for npm, "group:artifact" for Maven,
// the full module path for Go, the PEP 503 normal form for PyPI, lower case
// for NuGet and Composer (whose names are case-insensitive).
func langPackageName(u packageurl.PackageURL) string {
	switch u.Type {
	case packageurl.TypeNPM:
		if u.Namespace != "" {
			return u.Namespace + "/" + u.Name
		}
		return u.Name
	case packageurl.TypeMaven:
		return u.Namespace + ":" + u.Name
	case packageurl.TypeGolang:
		if u.Namespace != "" {
			return u.Namespace + "/" + u.Name
		}
		return u.Name
	case packageurl.TypeComposer: // lower case, as the advisories write it
		if u.Namespace != "" {
			return strings.ToLower(u.Namespace + "/" + u.Name)
		}
		return strings.ToLower(u.Name)
	case packageurl.TypePyPi:
		return NormalizePyPI(u.Name)
	case packageurl.TypeNuget:
		return strings.ToLower(u.Name) // NuGet ids are case-insensitive
	}
	return u.Name
}

// NormalizePyPI returns the PEP 503 normal form of a Python project name:
// lower case, with runs of "-", "_" and "." replaced by one "-".
func NormalizePyPI(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for _, r := range strings.ToLower(name) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}

// Ecosystems returns the database ecosystems Match reads to match inv
// ("alpine:3.19", "npm", …), sorted: the distribution release of its OS
// packages and the ecosystem of each language package. A database that
// downloads parts by ecosystem fetches these before matching.
func Ecosystems(inv *inventory.Inventory) []string {
	var out []string
	add := func(eco string) {
		if !slices.Contains(out, eco) {
			out = append(out, eco)
		}
	}
	osEco, _, osOK := distroEcosystem(inv.Artifact.OS)
	for i := range inv.Results {
		r := &inv.Results[i]
		if r.Class == inventory.ClassOSPkgs {
			if osOK && len(r.Packages) > 0 {
				add(osEco)
			}
			continue
		}
		for j := range r.Packages {
			if q, err := langQuery(&r.Packages[j], r.Type); err == nil {
				add(q.ecosystem)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Compared returns the version scheme of package p of result r, in an
// inventory whose OS is os, and the version the matcher compares against
// advisories: for Debian and Ubuntu the source version, else the package's
// own. ok is false for a package the matcher does not look up.
func Compared(os *inventory.OS, r *inventory.Result, p *inventory.Package) (scheme, version string, ok bool) {
	if r.Class == inventory.ClassOSPkgs {
		eco, sch, known := distroEcosystem(os)
		if !known {
			return "", "", false
		}
		q := osQuery(p, eco, sch)
		return q.scheme, q.version, true
	}
	q, err := langQuery(p, r.Type)
	if err != nil {
		return "", "", false
	}
	return q.scheme, q.version, true
}
