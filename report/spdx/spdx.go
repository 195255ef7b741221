// Package spdx writes a report as an SPDX 2.3 JSON document
// (https://spdx.github.io/spdx-spec/v2.3/): the artifact as the described
// package, containing its operating system and language targets, which
// contain their packages; dependencies as DEPENDS_ON relationships, or
// DEV_DEPENDENCY_OF ones (from the dependency's side) when the dependency
// is a development one.
//
// Output is reproducible: the creation time is the report's CreatedAt and
// the document namespace ends in a name-based UUID of the document's own
// content. The warnings of an incomplete scan are annotations of the
// described package, counted in the creator comment. Licenses that are not
// valid SPDX expressions become LicenseRef-s
// declared in hasExtractedLicensingInfos; licenseConcluded is always
// NOASSERTION, since vigil reads licenses, it does not conclude them.
package spdx

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	v23 "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/vigil-scanner/vigil/internal/spdxlicense"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/internal/sbom"
)

// NamespaceBase is the prefix of every document namespace vigil writes.
const NamespaceBase = "https://vigil-scanner.github.io/spdx/"

// Special values.
const (
	noAssertion      = "NOASSERTION"
	purposeContainer = "CONTAINER"
)

// Write writes r to w as an SPDX 2.3 JSON document. opts.AppVersion is
// recorded in the creating tool's name.
func Write(w io.Writer, r *report.Report, opts report.Options) error {
	doc := Document(r, opts)
	var buf bytes.Buffer
	if err := encode(&buf, doc); err != nil {
		return err
	}
	doc.DocumentNamespace = NamespaceBase + cmp.Or(r.Artifact.Type, "unknown") + "/" +
		url.PathEscape(r.Artifact.Name) + "-" + sbom.UUIDv5(namespaceUUID, buf.Bytes())
	buf.Reset()
	if err := encode(&buf, doc); err != nil {
		return err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing SPDX: %w", err)
	}
	return nil
}

func encode(w io.Writer, doc *v23.Document) error {
	if err := spdxjson.Write(doc, w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return fmt.Errorf("encoding SPDX: %w", err)
	}
	return nil
}

// Document converts r to an SPDX document without a namespace.
func Document(r *report.Report, opts report.Options) *v23.Document {
	tool := "vigil"
	if opts.AppVersion != "" {
		tool += "-" + opts.AppVersion
	}
	created := r.CreatedAt.UTC().Format(time.RFC3339)
	b := &builder{
		doc: &v23.Document{
			SPDXVersion:    v23.Version,
			DataLicense:    v23.DataLicense,
			SPDXIdentifier: "DOCUMENT",
			DocumentName:   cmp.Or(r.Artifact.Name, "unknown"),
			CreationInfo: &v23.CreationInfo{
				Creators: []common.Creator{
					{CreatorType: "Organization", Creator: "vigil-scanner"},
					{CreatorType: "Tool", Creator: tool},
				},
				Created: created,
			},
		},
		annotator:   common.Annotator{AnnotatorType: "Tool", Annotator: tool},
		created:     created,
		licenseRefs: map[string]string{},
	}

	root := b.rootPackage(r.Artifact, r.Warnings)
	if n := len(r.Warnings); n > 0 {
		b.doc.CreationInfo.CreatorComment = fmt.Sprintf("Scan incomplete: %d warnings; each is a %s annotation of the described package.", n, WarningAnnotation)
	}
	b.relate("DOCUMENT", root, "DESCRIBES")

	refs := sbom.PackageRefs(r)
	var osID common.ElementID
	if r.Artifact.OS != nil {
		osID = b.osPackage(*r.Artifact.OS)
		b.relate(root, osID, "CONTAINS")
	}
	for i, res := range r.Results {
		parent := osID
		if res.Class != inventory.ClassOSPkgs || parent == "" {
			parent = b.resultPackage(res)
			b.relate(root, parent, "CONTAINS")
		}
		ids := make([]common.ElementID, len(res.Packages))
		byKey := map[string]common.ElementID{}
		for j, pkg := range res.Packages {
			ids[j] = b.pkg(res, pkg, refs[i][j])
			byKey[sbom.PackageKey(pkg)] = ids[j]
			b.relate(parent, ids[j], "CONTAINS")
		}
		dev := map[common.ElementID]bool{}
		for j, pkg := range res.Packages {
			dev[ids[j]] = pkg.Dev
		}
		for j, pkg := range res.Packages {
			var deps []common.ElementID
			for _, d := range pkg.DependsOn {
				if id, ok := byKey[d]; ok && id != ids[j] {
					deps = append(deps, id)
				}
			}
			slices.Sort(deps)
			for _, d := range slices.Compact(deps) {
				// An edge into a development dependency is said as
				// such, from the dependency's side.
				if dev[d] {
					b.relate(d, ids[j], "DEV_DEPENDENCY_OF")
				} else {
					b.relate(ids[j], d, "DEPENDS_ON")
				}
			}
		}
	}
	slices.SortFunc(b.doc.OtherLicenses, func(a, b *v23.OtherLicense) int {
		return cmp.Compare(a.LicenseIdentifier, b.LicenseIdentifier)
	})
	return b.doc
}

type builder struct {
	doc         *v23.Document
	annotator   common.Annotator
	created     string
	licenseRefs map[string]string // license text → LicenseRef id
	usedRefs    map[string]bool
}

func (b *builder) relate(a, c common.ElementID, kind string) {
	b.doc.Relationships = append(b.doc.Relationships, &v23.Relationship{
		RefA:         common.MakeDocElementID("", string(a)),
		RefB:         common.MakeDocElementID("", string(c)),
		Relationship: kind,
	})
}

func (b *builder) add(p *v23.Package) common.ElementID {
	b.doc.Packages = append(b.doc.Packages, p)
	return p.PackageSPDXIdentifier
}

// newPackage returns a package with the fields vigil does not know set to
// NOASSERTION.
func newPackage(id common.ElementID, name, version string) *v23.Package {
	return &v23.Package{
		PackageSPDXIdentifier:     id,
		PackageName:               name,
		PackageVersion:            version,
		PackageSupplier:           &common.Supplier{Supplier: noAssertion},
		PackageOriginator:         &common.Originator{Originator: noAssertion},
		PackageDownloadLocation:   noAssertion,
		IsFilesAnalyzedTagPresent: true,
		PackageLicenseConcluded:   noAssertion,
		PackageLicenseDeclared:    noAssertion,
	}
}

func purlRef(purl string) []*v23.PackageExternalReference {
	if purl == "" {
		return nil
	}
	return []*v23.PackageExternalReference{{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: purl}}
}

// annotate records name=value pairs on p as OTHER annotations.
func (b *builder) annotate(p *v23.Package, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		p.Annotations = append(p.Annotations, v23.Annotation{
			Annotator:         b.annotator,
			AnnotationDate:    b.created,
			AnnotationType:    "OTHER",
			AnnotationComment: pairs[i] + ": " + pairs[i+1],
		})
	}
}

// WarningAnnotation names the annotations of the described package that
// record the warnings of an incomplete scan ("vigil:image:warning: …", the
// warning as inventory.Warning.String writes it).
const WarningAnnotation = "vigil:image:warning"

func (b *builder) rootPackage(a inventory.Artifact, warnings []inventory.Warning) common.ElementID {
	// A repository's version is its commit.
	p := newPackage("Artifact", cmp.Or(a.Name, "unknown"), cmp.Or(sbom.ImageVersion(a), a.Commit))
	p.PackageExternalReferences = purlRef(sbom.ImagePurl(a))
	if a.Type == inventory.TypeContainerImage {
		p.PrimaryPackagePurpose = purposeContainer
	}
	b.annotate(p, "vigil:image:type", a.Type, "vigil:image:imageID", a.ImageID, "vigil:image:platform", a.Platform, "vigil:image:commit", a.Commit)
	for _, d := range a.RepoDigests {
		b.annotate(p, "vigil:image:repoDigest", d)
	}
	for _, t := range a.RepoTags {
		b.annotate(p, "vigil:image:repoTag", t)
	}
	for _, w := range warnings {
		b.annotate(p, WarningAnnotation, w.String())
	}
	if base := a.Base; base != nil {
		b.annotate(p, "vigil:image:base:name", base.Name, "vigil:image:base:digest", base.Digest, "vigil:image:base:layers", strconv.Itoa(base.Layers))
		for _, how := range base.IdentifiedBy {
			b.annotate(p, "vigil:image:base:identifiedBy", how)
		}
	}
	return b.add(p)
}

func (b *builder) osPackage(os inventory.OS) common.ElementID {
	p := newPackage("OperatingSystem", os.Family, os.Name)
	p.PrimaryPackagePurpose = "OPERATING-SYSTEM"
	if os.EOSL {
		b.annotate(p, "vigil:os:eosl", "true")
	}
	b.annotate(p, "vigil:os:eoslDate", os.EOSLDate)
	return b.add(p)
}

func (b *builder) resultPackage(res report.Result) common.ElementID {
	p := newPackage(elementID("Application", res.Type+"\x00"+res.Target), res.Target, "")
	p.PrimaryPackagePurpose = "APPLICATION"
	b.annotate(p, "vigil:result:class", res.Class, "vigil:result:type", res.Type)
	return b.add(p)
}

func (b *builder) pkg(res report.Result, pkg inventory.Package, ref string) common.ElementID {
	p := newPackage(elementID("Package", ref), pkg.Name, pkg.Version)
	p.PrimaryPackagePurpose = "LIBRARY"
	p.PackageExternalReferences = purlRef(pkg.Purl)
	p.PackageLicenseDeclared = b.licenseExpression(pkg.Licenses)
	if pkg.Vendor != "" {
		p.PackageSupplier = &common.Supplier{SupplierType: "Organization", Supplier: pkg.Vendor}
	}
	if pkg.SourceName != "" {
		p.PackageSourceInfo = "built package from: " + strings.TrimSpace(pkg.SourceName+" "+pkg.SourceVersion)
	}
	epoch := ""
	if pkg.Epoch != 0 {
		epoch = strconv.Itoa(pkg.Epoch)
	}
	root, dev, indirect, base := "", "", "", ""
	if pkg.Layer.Base {
		base = "true"
	}
	if pkg.Root {
		root = "true"
	}
	if pkg.Dev {
		dev = "true"
	}
	if pkg.Indirect {
		indirect = "true"
	}
	b.annotate(p,
		"vigil:package:id", pkg.ID,
		"vigil:package:sourceName", pkg.SourceName,
		"vigil:package:sourceVersion", pkg.SourceVersion,
		"vigil:package:epoch", epoch,
		"vigil:package:arch", pkg.Arch,
		"vigil:package:modularitylabel", pkg.Modularitylabel,
		"vigil:package:root", root,
		"vigil:package:dev", dev,
		"vigil:package:indirect", indirect,
		"vigil:package:origin", pkg.Origin,
		"vigil:package:filePath", pkg.FilePath,
		"vigil:package:layerDigest", pkg.Layer.Digest,
		"vigil:package:layerDiffID", pkg.Layer.DiffID,
		"vigil:package:layerCreatedBy", pkg.Layer.CreatedBy,
		"vigil:package:layerBase", base,
		"vigil:package:class", res.Class,
		"vigil:package:type", res.Type,
		"vigil:package:target", res.Target,
	)
	return b.add(p)
}

// licenseExpression joins a package's licenses with AND: valid SPDX
// expressions as they are (parenthesised when compound), anything else as a
// LicenseRef declared in the document.
func (b *builder) licenseExpression(ls []string) string {
	var parts []string
	for _, l := range ls {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		e, ok := spdxlicense.Expression(l)
		switch {
		case !ok:
			e = b.licenseRef(l)
		case spdxlicense.IsCompound(e) && len(ls) > 1:
			e = "(" + e + ")"
		}
		if !slices.Contains(parts, e) {
			parts = append(parts, e)
		}
	}
	if len(parts) == 0 {
		return noAssertion
	}
	return strings.Join(parts, " AND ")
}

// licenseRef returns the LicenseRef for a license text that is not an SPDX
// expression, declaring it in the document the first time.
func (b *builder) licenseRef(text string) string {
	if id, ok := b.licenseRefs[text]; ok {
		return id
	}
	var s strings.Builder
	for _, c := range text {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-':
			s.WriteRune(c)
		default:
			s.WriteByte('-')
		}
	}
	base := "LicenseRef-" + strings.Trim(s.String(), "-")
	if base == "LicenseRef-" {
		base = "LicenseRef-unnamed"
	}
	if b.usedRefs == nil {
		b.usedRefs = map[string]bool{}
	}
	id := base
	for n := 2; b.usedRefs[id]; n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	b.usedRefs[id] = true
	b.licenseRefs[text] = id
	b.doc.OtherLicenses = append(b.doc.OtherLicenses, &v23.OtherLicense{
		LicenseIdentifier: id,
		LicenseName:       text,
		ExtractedText:     text,
		LicenseComment:    "License text as the package declares it; not an SPDX license expression.",
	})
	return id
}

// elementID is kind followed by the first 16 hex digits of key's SHA-256:
// stable for the same key and unique in practice.
func elementID(kind, key string) common.ElementID {
	sum := sha256.Sum256([]byte(key))
	return common.ElementID(kind + "-" + hex.EncodeToString(sum[:8]))
}

// namespaceUUID is the UUID namespace of vigil's SPDX document namespaces,
// a fixed value chosen for vigil.
var namespaceUUID = [16]byte{0x6b, 0x0e, 0x52, 0x9d, 0x31, 0xc4, 0x5a, 0x07, 0x8f, 0x2b, 0x44, 0x91, 0xd6, 0x0a, 0x7c, 0xe3}
