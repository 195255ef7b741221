package distro

import (
	"strings"

	"github.com/vigil-scanner/vigil/inventory"
)

// rpmVendors are the Vendor tags (prefixes) of the distributions whose rpm
// packages vigil matches against their advisories.
var rpmVendors = []string{
	"Red Hat", "CentOS", "Rocky Enterprise Software Foundation", "AlmaLinux", "CloudLinux",
	"Oracle America", "Amazon", "Fedora Project", "SUSE", "openSUSE",
	"Microsoft Corporation", // Azure Linux, CBL-Mariner
	"VMware", "Broadcom",    // Photon OS
}

// debThirdParty are words in the Maintainer names (not addresses: Debian
// developers may write from any employer's domain) of well-known
// third-party apt repositories, whose packages reuse distribution package
// names (nodejs, containerd) with their own versions.
var debThirdParty = []string{
	"nodesource", "docker", "google", "microsoft", "nvidia", "gitlab", "elastic", "mongodb",
	"grafana", "hashicorp", "datadog", "yarn packaging", "percona", "new relic",
}

// FromVendor reports whether an OS package was built by its distribution,
// so that the distribution's advisories describe it. A package from a
// third-party repository (Docker's, NodeSource's, EPEL's …) is not: its
// version line is not the distribution's, and matching it against the
// distribution's fixed versions gives wrong answers both ways. rpm packages
// are judged by their Vendor tag (Amazon's carry none: an "amzn" release
// stands for it), dpkg packages by their Maintainer's name (every
// Maintainer of a package list in one apt repository); apk packages and
// packages of other formats are taken as the distribution's.
func FromVendor(p *inventory.Package) bool {
	switch {
	case strings.HasPrefix(p.Purl, "pkg:rpm/"):
		if p.Vendor == "" {
			return strings.Contains(p.Version, "amzn")
		}
		for _, v := range rpmVendors {
			if strings.HasPrefix(p.Vendor, v) {
				return true
			}
		}
		return false
	case strings.HasPrefix(p.Purl, "pkg:deb/"):
		name, _, _ := strings.Cut(p.Maintainer, "<")
		m := strings.ToLower(name)
		for _, s := range debThirdParty {
			if strings.Contains(m, s) {
				return false
			}
		}
	}
	return true
}
