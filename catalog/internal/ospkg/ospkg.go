// Package ospkg holds what the OS package catalogers (apk, dpkg, rpm) share:
// the result type, the purl namespace and distro qualifier derived from the
// detected OS, deterministic ordering and unique IDs.
package ospkg

import (
	"cmp"
	"slices"

	"github.com/vigil-scanner/vigil/inventory"
)

// ResultType is the Result.Type of an OS package result: the OS family when
// known, else fallback (the database format: "apk", "dpkg", "rpm").
func ResultType(os *inventory.OS, fallback string) string {
	if os != nil && os.Family != "" {
		return os.Family
	}
	return fallback
}

// Namespace is the purl namespace (the vendor) for os, or fallback when the
// OS is unknown. The openSUSE families share the "opensuse" vendor, as Syft
// and Trivy write it.
func Namespace(os *inventory.OS, fallback string) string {
	if os == nil || os.Family == "" {
		return fallback
	}
	switch os.Family {
	case "opensuse-leap", "opensuse-tumbleweed":
		return "opensuse"
	}
	return os.Family
}

// Distro is the purl "distro" qualifier value "family-name" ("debian-12",
// "redhat-9.2"), or "" when the OS or its release is unknown.
func Distro(os *inventory.OS) string {
	if os == nil || os.Family == "" || os.Name == "" {
		return ""
	}
	return os.Family + "-" + os.Name
}

// Sort orders pkgs by name, version and arch, then gives each an ID
// "name@version", adding "?arch=…" when the same name and version appear
// for more than one architecture (multi-arch dpkg, rpm multilib).
func Sort(pkgs []inventory.Package) {
	slices.SortStableFunc(pkgs, func(a, b inventory.Package) int {
		return cmp.Or(
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Version, b.Version),
			cmp.Compare(a.Arch, b.Arch),
		)
	})
	for i := range pkgs {
		p := &pkgs[i]
		p.ID = p.Name + "@" + p.Version
		dup := i > 0 && pkgs[i-1].Name == p.Name && pkgs[i-1].Version == p.Version ||
			i+1 < len(pkgs) && pkgs[i+1].Name == p.Name && pkgs[i+1].Version == p.Version
		if dup && p.Arch != "" {
			p.ID += "?arch=" + p.Arch
		}
	}
}
