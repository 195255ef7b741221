package sbom

import (
	"bytes"
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/inventory"
)

// cdxIncomplete leads the annotations in which vigil records the warnings
// of an incomplete scan (report/cyclonedx.IncompletePrefix).
const cdxIncomplete = "vigil: scan incomplete: "

// readCycloneDX reads a CycloneDX JSON BOM: metadata.component is the
// artifact, an operating-system component the OS, and the dependency graph
// links lockfiles and binaries (application components without a purl) to
// their packages. vigil's annotations of an incomplete scan are its
// warnings.
func readCycloneDX(data []byte, file string) (*inventory.Inventory, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, fmt.Errorf("decoding CycloneDX: %w", err)
	}
	doc := &document{file: file}
	if m := bom.Metadata; m != nil && m.Component != nil {
		doc.root = cdxNode(*m.Component)
		doc.image = m.Component.Type == cdx.ComponentTypeContainer
	}
	if doc.root.props == nil {
		doc.root.props = props{}
	}
	if bom.Annotations != nil {
		for _, a := range *bom.Annotations {
			if w, ok := strings.CutPrefix(a.Text, cdxIncomplete); ok {
				doc.root.props.add(vigilWarning, w)
			}
		}
	}
	deps := map[string][]string{}
	if bom.Dependencies != nil {
		for _, d := range *bom.Dependencies {
			if d.Dependencies != nil {
				deps[d.Ref] = append(deps[d.Ref], *d.Dependencies...)
			}
		}
	}
	var walk func(cs *[]cdx.Component, parent int)
	walk = func(cs *[]cdx.Component, parent int) {
		if cs == nil {
			return
		}
		for _, c := range *cs {
			n := cdxNode(c)
			n.out = deps[n.ref]
			switch {
			case c.Type == cdx.ComponentTypeOS:
				n.kind = kindOS
				if doc.os == nil {
					doc.os = osOf(n)
				}
			case n.props.hasPrefix(vigilPackage) || (n.purl != "" && !isImagePurl(n.purl)):
				n.kind = kindPackage
			case n.props.hasPrefix(vigilResult) || n.props.get(trivy+"Class") != "" ||
				(n.purl == "" && c.Type == cdx.ComponentTypeApplication):
				n.kind = kindResult
			}
			idx := len(doc.nodes)
			doc.nodes = append(doc.nodes, n)
			if parent >= 0 && n.ref != "" {
				doc.nodes[parent].out = append(doc.nodes[parent].out, n.ref)
			}
			walk(c.Components, idx)
		}
	}
	walk(bom.Components, -1)
	return build(doc), nil
}

func cdxNode(c cdx.Component) node {
	n := node{ref: c.BOMRef, name: c.Name, version: c.Version, purl: c.PackageURL, props: props{}}
	if c.Group != "" && c.PackageURL == "" {
		n.name = c.Group + "/" + c.Name
	}
	if c.Supplier != nil {
		n.supplier = c.Supplier.Name
	}
	if c.Licenses != nil {
		for _, l := range *c.Licenses {
			switch {
			case l.Expression != "":
				n.licenses = append(n.licenses, l.Expression)
			case l.License != nil && l.License.ID != "":
				n.licenses = append(n.licenses, l.License.ID)
			case l.License != nil && l.License.Name != "":
				n.licenses = append(n.licenses, l.License.Name)
			}
		}
	}
	if c.Properties != nil {
		for _, p := range *c.Properties {
			n.props.add(p.Name, p.Value)
		}
	}
	return n
}

// isImagePurl reports whether purl names a container image rather than a
// package.
func isImagePurl(purl string) bool {
	u, err := packageurl.FromString(purl)
	return err == nil && (u.Type == packageurl.TypeOCI || u.Type == packageurl.TypeDocker)
}
