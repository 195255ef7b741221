// Package sbom holds what the SBOM writers (CycloneDX, SPDX) share: the
// image's package URL, stable unique references for packages and the
// dependency roots of a result.
package sbom

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/report"
)

// ImagePurl returns the pkg:oci purl of a container image: its name is the
// last path element of the first repo digest's repository, its version that
// digest, with repository_url and arch (without variant) qualifiers. It returns "" when the
// artifact is not an image or has no repo digest.
func ImagePurl(a inventory.Artifact) string {
	if a.Type != inventory.TypeContainerImage || len(a.RepoDigests) == 0 {
		return ""
	}
	repo, digest, ok := strings.Cut(a.RepoDigests[0], "@")
	if !ok || repo == "" || digest == "" {
		return ""
	}
	name := strings.ToLower(repo[strings.LastIndex(repo, "/")+1:])
	q := packageurl.Qualifiers{}
	if parts := strings.Split(a.Platform, "/"); len(parts) > 1 && parts[1] != "" {
		arch := parts[1]
		q = append(q, packageurl.Qualifier{Key: "arch", Value: arch})
	}
	q = append(q, packageurl.Qualifier{Key: "repository_url", Value: repo})
	return packageurl.NewPackageURL(packageurl.TypeOCI, "", name, digest, q, "").ToString()
}

// ImageVersion is the image's digest: the first repo digest's, else the
// image ID.
func ImageVersion(a inventory.Artifact) string {
	if len(a.RepoDigests) > 0 {
		if _, d, ok := strings.Cut(a.RepoDigests[0], "@"); ok {
			return d
		}
	}
	return a.ImageID
}

// PackageRefs returns a reference for every package of r, indexed
// [result][package]: the package's purl when no other package has the same
// one, else the purl followed by "#" and the result target (and "#n" if
// that is still not unique). Packages without a purl get
// "vigil:<type>:<id or name@version>". The same report always gets the same
// references.
func PackageRefs(r *report.Report) [][]string {
	refs := make([][]string, len(r.Results))
	count := map[string]int{}
	for i, res := range r.Results {
		refs[i] = make([]string, len(res.Packages))
		for j, pkg := range res.Packages {
			base := pkg.Purl
			if base == "" {
				base = "vigil:" + res.Type + ":" + cmp.Or(pkg.ID, pkg.Name+"@"+pkg.Version)
			}
			refs[i][j] = base
			count[base]++
		}
	}
	used := map[string]bool{}
	for i, res := range r.Results {
		for j := range res.Packages {
			ref := refs[i][j]
			if count[ref] > 1 {
				ref += "#" + res.Target
			}
			for n := 2; used[ref]; n++ {
				ref = refs[i][j] + "#" + res.Target + "#" + strconv.Itoa(n)
			}
			used[ref] = true
			refs[i][j] = ref
		}
	}
	return refs
}

// PackageKey identifies a package within its result by ID, falling back to
// name@version as Package.ID does.
func PackageKey(p inventory.Package) string {
	return cmp.Or(p.ID, p.Name+"@"+p.Version)
}

// Roots returns the indexes of the packages of res that no other package of
// res depends on, in order. When every package is depended on (a cycle),
// it returns all of them.
func Roots(res report.Result) []int {
	dependedOn := map[string]bool{}
	for _, p := range res.Packages {
		for _, d := range p.DependsOn {
			if d != PackageKey(p) {
				dependedOn[d] = true
			}
		}
	}
	var roots []int
	for i, p := range res.Packages {
		if !dependedOn[PackageKey(p)] {
			roots = append(roots, i)
		}
	}
	if len(roots) == 0 {
		for i := range res.Packages {
			roots = append(roots, i)
		}
	}
	return roots
}

// UUIDv5 returns the RFC 9562 name-based (SHA-1) UUID of name in the
// namespace ns, in its textual form.
func UUIDv5(ns [16]byte, name []byte) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write(name)
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	s := hex.EncodeToString(u[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}
