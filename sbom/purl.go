package sbom

import (
	"strconv"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/distro"
)

// familyAliases are OS names other tools write that are neither os-release
// IDs nor vigil's family names.
var familyAliases = map[string]string{
	"suse linux enterprise server": "sles",
	"sle":                          "sles",
	"opensuse.leap":                "opensuse-leap",
	"opensuse.tumbleweed":          "opensuse-tumbleweed",
	"amazonlinux":                  "amazon",
	"oraclelinux":                  "oracle",
	"almalinux":                    "alma",
	"rockylinux":                   "rocky",
	"mariner":                      "cbl-mariner",
}

// family returns vigil's family name for an OS name as an SBOM writes it,
// or name itself, lower-cased, when it is not one vigil knows.
func family(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if f, ok := distro.Family(name); ok {
		return f
	}
	if f, ok := familyAliases[name]; ok {
		return f
	}
	return name
}

// purlDistro returns the OS family and release of an OS package's purl,
// from its distro qualifier ("alpine-3.19.1", "debian-12", "rhel-9.3", or
// only "3.19.1") and namespace.
func purlDistro(u packageurl.PackageURL) (fam, release string) {
	d := u.Qualifiers.Map()["distro"]
	name := d
	for i := len(d) - 1; i >= 0; i-- {
		if d[i] == '-' && i+1 < len(d) && isDigit(d[i+1]) {
			name, release = d[:i], d[i+1:]
			break
		}
	}
	if release == "" && d != "" && isDigit(d[0]) {
		name, release = "", d
	}
	if name == "" || !known(family(name)) {
		name = u.Namespace
	}
	return family(name), release
}

func known(fam string) bool {
	_, ok := distro.Family(fam)
	return ok
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// osVersion is the full version of an OS package as vigil compares it:
// "[epoch:]version" with the epoch from the qualifier when the purl's
// version does not carry it. The epoch is returned too for rpm.
func osVersion(u packageurl.PackageURL) (string, int) {
	v := u.Version
	e := u.Qualifiers.Map()["epoch"]
	if u.Type == packageurl.TypeApk {
		return v, 0
	}
	if e != "" && e != "0" && !strings.Contains(v, ":") {
		v = e + ":" + v
	}
	epoch := 0
	if u.Type == packageurl.TypeRPM {
		if before, _, ok := strings.Cut(v, ":"); ok {
			epoch, _ = strconv.Atoi(before)
		}
	}
	return v, epoch
}

// osSource returns the source package of an OS package: from the purl's
// upstream qualifier, Trivy's SrcName/SrcVersion properties or Syft's
// metadata, else nothing.
func osSource(u packageurl.PackageURL, p props, version string, epoch int) (name, ver string) {
	if n := p.get(trivy + "SrcName"); n != "" {
		ver = p.get(trivy + "SrcVersion")
		if r := p.get(trivy + "SrcRelease"); r != "" {
			ver += "-" + r
		}
		if e := p.get(trivy + "SrcEpoch"); e != "" && e != "0" {
			ver = e + ":" + ver
		}
		return n, ver
	}
	up := u.Qualifiers.Map()["upstream"]
	if up == "" {
		up = p.first("syft:metadata:sourceRpm", "syft:metadata:source", "syft:metadata:originPackage")
		if v := p.get("syft:metadata:sourceVersion"); v != "" && up != "" {
			up += "@" + v
		}
	}
	if up == "" {
		return "", ""
	}
	if u.Type == packageurl.TypeRPM {
		if n, v, ok := sourceRPM(up); ok {
			if epoch != 0 {
				v = strconv.Itoa(epoch) + ":" + v
			}
			return n, v
		}
	}
	if n, v, ok := strings.Cut(up, "@"); ok {
		return n, v
	}
	return up, version
}

// sourceRPM splits a source RPM file name, "name-version-release.src.rpm",
// into its name and "version-release".
func sourceRPM(s string) (name, version string, ok bool) {
	s, ok = strings.CutSuffix(s, ".src.rpm")
	if !ok {
		if s, ok = strings.CutSuffix(s, ".nosrc.rpm"); !ok {
			return "", "", false
		}
	}
	r := strings.LastIndexByte(s, '-')
	if r <= 0 {
		return "", "", false
	}
	v := strings.LastIndexByte(s[:r], '-')
	if v <= 0 {
		return "", "", false
	}
	return s[:v], s[v+1:], true
}

// langName is a language package's name as vigil writes it: Maven
// "group:artifact", npm "@scope/name", Go and Composer "namespace/name".
func langName(u packageurl.PackageURL) string {
	if u.Namespace == "" {
		return u.Name
	}
	if u.Type == packageurl.TypeMaven {
		return u.Namespace + ":" + u.Name
	}
	return u.Namespace + "/" + u.Name
}
