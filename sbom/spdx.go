package sbom

import (
	"bytes"
	"fmt"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	v23 "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/vigil-scanner/vigil/inventory"
)

// readSPDX reads an SPDX 2.2 or 2.3 JSON document: the package the
// document DESCRIBES is the artifact, an OPERATING-SYSTEM package the OS,
// and CONTAINS / DEPENDS_ON relationships (and their inverses, the
// scoped *_DEPENDENCY_OF ones included) link
// APPLICATION packages (lockfiles, binaries) to their packages. Package
// properties are read from annotations and attribution texts written as
// "name: value".
func readSPDX(data []byte, file string) (*inventory.Inventory, error) {
	sd, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decoding SPDX: %w", err)
	}
	doc := &document{file: file, name: sd.DocumentName}
	out := map[common.ElementID][]string{}
	described := map[common.ElementID]bool{}
	for _, r := range sd.Relationships {
		if r == nil {
			continue
		}
		a, b := r.RefA.ElementRefID, r.RefB.ElementRefID
		switch strings.ToUpper(r.Relationship) {
		case "DESCRIBES":
			if a == "DOCUMENT" {
				described[b] = true
			}
		case "DESCRIBED_BY":
			if b == "DOCUMENT" {
				described[a] = true
			}
		case "CONTAINS", "DEPENDS_ON":
			out[a] = append(out[a], string(b))
		case "CONTAINED_BY", "DEPENDENCY_OF", "DEV_DEPENDENCY_OF", "RUNTIME_DEPENDENCY_OF", "OPTIONAL_DEPENDENCY_OF",
			"BUILD_DEPENDENCY_OF", "TEST_DEPENDENCY_OF", "PROVIDED_DEPENDENCY_OF":
			out[b] = append(out[b], string(a))
		}
	}
	otherLicenses := map[string]string{}
	for _, l := range sd.OtherLicenses {
		if l != nil && l.LicenseName != "" && l.LicenseName != noAssertion {
			otherLicenses[l.LicenseIdentifier] = l.LicenseName
		}
	}
	rootFound := false
	for _, p := range sd.Packages {
		if p == nil {
			continue
		}
		n := spdxNode(p, otherLicenses)
		n.out = out[p.PackageSPDXIdentifier]
		if !rootFound && described[p.PackageSPDXIdentifier] {
			rootFound = true
			doc.root = n
			doc.image = p.PrimaryPackagePurpose == "CONTAINER"
			continue
		}
		switch {
		case p.PrimaryPackagePurpose == "OPERATING-SYSTEM":
			n.kind = kindOS
			if doc.os == nil {
				doc.os = osOf(n)
			}
		case n.props.hasPrefix(vigilPackage) || (n.purl != "" && !isImagePurl(n.purl)):
			n.kind = kindPackage
		case n.props.hasPrefix(vigilResult) || n.props.get(trivy+"Class") != "" ||
			(n.purl == "" && p.PrimaryPackagePurpose == "APPLICATION"):
			n.kind = kindResult
		}
		doc.nodes = append(doc.nodes, n)
	}
	return build(doc), nil
}

const noAssertion = "NOASSERTION"

func spdxNode(p *v23.Package, otherLicenses map[string]string) node {
	n := node{ref: string(p.PackageSPDXIdentifier), name: p.PackageName, version: p.PackageVersion, props: props{}}
	for _, r := range p.PackageExternalReferences {
		if r != nil && r.RefType == common.TypePackageManagerPURL && n.purl == "" {
			n.purl = r.Locator
		}
	}
	if s := p.PackageSupplier; s != nil && s.SupplierType == "Organization" {
		n.supplier = s.Supplier
	}
	n.licenses = splitLicenses(p.PackageLicenseDeclared, otherLicenses)
	addPair := func(text string) {
		k, v, ok := strings.Cut(text, ": ")
		if !ok {
			return
		}
		k = strings.TrimSpace(k)
		if !strings.Contains(k, ":") {
			k = trivy + k // Trivy writes its properties without prefix
		}
		n.props.add(k, v)
	}
	for _, a := range p.Annotations {
		addPair(a.AnnotationComment)
	}
	for _, t := range p.PackageAttributionTexts {
		addPair(t)
	}
	return n
}

// splitLicenses splits a declared license expression at its top-level ANDs
// and resolves LicenseRef-s to the license names the document declares.
// NOASSERTION and NONE give no licenses.
func splitLicenses(expr string, otherLicenses map[string]string) []string {
	expr = strings.TrimSpace(expr)
	if expr == "" || expr == noAssertion || expr == "NONE" {
		return nil
	}
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(expr); i++ {
		switch expr[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ' ':
			if depth == 0 && strings.HasPrefix(expr[i:], " AND ") {
				parts = append(parts, expr[start:i])
				start = i + len(" AND ")
				i += len(" AND ") - 1
			}
		}
	}
	parts = append(parts, expr[start:])
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if strings.HasPrefix(p, "(") && strings.HasSuffix(p, ")") && len(parts) > 1 {
			p = strings.TrimSpace(p[1 : len(p)-1])
		}
		if name, ok := otherLicenses[p]; ok {
			p = name
		}
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
