package sbom

import (
	"cmp"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/distro"
	"github.com/vigil-scanner/vigil/inventory"
)

// document is what the CycloneDX and SPDX readers extract: the same shape
// for both, turned into an inventory by build.
type document struct {
	file  string // file name, the artifact name of last resort
	name  string // document name (SPDX)
	root  node
	image bool          // the root is a container image
	os    *inventory.OS // from an operating-system component
	nodes []node        // every other component, in document order
}

type nodeKind int

const (
	kindOther   nodeKind = iota
	kindPackage          // a package with a purl or vigil's package properties
	kindResult           // a lockfile, binary or other target holding packages
	kindOS               // the operating system
)

// node is one component (CycloneDX) or package (SPDX).
type node struct {
	kind     nodeKind
	ref      string
	name     string
	version  string
	purl     string
	supplier string
	licenses []string
	props    props
	// out are the refs this node contains or depends on.
	out []string
}

// props holds a component's properties by name, every value in order.
type props map[string][]string

func (p props) add(name, value string) {
	if name != "" && value != "" {
		p[name] = append(p[name], value)
	}
}

func (p props) get(name string) string {
	if v := p[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// first returns the value of the first of names that is set.
func (p props) first(names ...string) string {
	for _, n := range names {
		if v := p.get(n); v != "" {
			return v
		}
	}
	return ""
}

// all returns every value of the first of names that is set.
func (p props) all(names ...string) []string {
	for _, n := range names {
		if v := p[n]; len(v) > 0 {
			return v
		}
	}
	return nil
}

func (p props) hasPrefix(prefix string) bool {
	for k := range p {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// Property names read back.
const (
	vigilImage   = "vigil:image:"
	vigilWarning = vigilImage + "warning" // report/spdx.WarningAnnotation
	vigilOS      = "vigil:os:"
	vigilResult  = "vigil:result:"
	vigilPackage = "vigil:package:"
	trivy        = "aquasecurity:trivy:"
)

// isOSPurl reports whether a purl type names OS packages.
func isOSPurl(t string) bool {
	return t == packageurl.TypeApk || t == packageurl.TypeDebian || t == packageurl.TypeRPM
}

// langTypes is the Result.Type given to language packages that say nothing
// better, by purl type: the installed-package types of vigil's catalogers.
var langTypes = map[string]string{
	packageurl.TypeNPM: "node-pkg", packageurl.TypePyPi: "python-pkg", packageurl.TypeGolang: "gobinary",
	packageurl.TypeMaven: "jar", packageurl.TypeGem: "gemspec", packageurl.TypeCargo: "rust-binary",
	packageurl.TypeComposer: "composer-vendor", packageurl.TypeNuget: "dotnet-core",
	packageurl.TypePub: "pub", packageurl.TypeHex: "hex",
}

// builder turns a document into an inventory.
type builder struct {
	doc     *document
	inv     *inventory.Inventory
	results map[string]int // result key → index in inv.Results
	parent  []int          // node index → index of the result node holding it, or -1
}

func build(doc *document) *inventory.Inventory {
	b := &builder{doc: doc, inv: &inventory.Inventory{}, results: map[string]int{}}
	b.artifact()
	b.assignParents()

	refs := map[string]string{} // node ref → package ID
	type placed struct{ result, pkg int }
	where := make([]placed, len(doc.nodes))
	for i := range doc.nodes {
		where[i] = placed{-1, -1}
		n := &doc.nodes[i]
		switch n.kind {
		case kindResult:
			if class, typ := n.props.first(vigilResult+"class", trivy+"Class"), n.props.first(vigilResult+"type", trivy+"Type"); class != "" && typ != "" {
				b.result(n.name, class, typ)
			}
		case kindPackage:
			pkg, class, typ, target, ok := b.pkg(i)
			if !ok {
				continue
			}
			r := b.result(target, class, typ)
			res := &b.inv.Results[r]
			res.Packages = append(res.Packages, pkg)
			where[i] = placed{r, len(res.Packages) - 1}
			if n.ref != "" {
				refs[n.ref] = pkg.ID
			}
		}
	}
	// Dependencies within a result, by package ID.
	resultOf := map[string]int{}
	for i, n := range doc.nodes {
		if where[i].result >= 0 && n.ref != "" {
			resultOf[n.ref] = where[i].result
		}
	}
	for i, n := range doc.nodes {
		w := where[i]
		if w.result < 0 {
			continue
		}
		pkg := &b.inv.Results[w.result].Packages[w.pkg]
		for _, to := range n.out {
			id, ok := refs[to]
			if ok && to != n.ref && resultOf[to] == w.result && !slices.Contains(pkg.DependsOn, id) {
				pkg.DependsOn = append(pkg.DependsOn, id)
			}
		}
	}
	b.layers()
	slices.SortStableFunc(b.inv.Results, func(x, y inventory.Result) int {
		return cmp.Or(cmp.Compare(osRank(x), osRank(y)), cmp.Compare(x.Target, y.Target))
	})
	return b.inv
}

func osRank(r inventory.Result) int {
	if r.Class == inventory.ClassOSPkgs {
		return 0
	}
	return 1
}

// result returns the index of the result for target and typ, adding it.
func (b *builder) result(target, class, typ string) int {
	key := class + "\x00" + typ + "\x00" + target
	if i, ok := b.results[key]; ok {
		return i
	}
	b.inv.Results = append(b.inv.Results, inventory.Result{Target: target, Class: class, Type: typ})
	b.results[key] = len(b.inv.Results) - 1
	return len(b.inv.Results) - 1
}

func (b *builder) artifact() {
	d, p := b.doc, b.doc.root.props
	a := &b.inv.Artifact
	a.Name = cmp.Or(d.root.name, d.name, d.file)
	a.Type = p.get(vigilImage + "type")
	if a.Type == "" {
		a.Type = inventory.TypeSBOM
		if d.image {
			a.Type = inventory.TypeContainerImage
		}
	}
	a.ImageID = p.first(vigilImage+"imageID", trivy+"ImageID")
	a.RepoDigests = p.all(vigilImage+"repoDigest", trivy+"RepoDigest")
	a.RepoTags = p.all(vigilImage+"repoTag", trivy+"RepoTag")
	a.Platform = p.get(vigilImage + "platform")
	a.Commit = p.get(vigilImage + "commit")
	for _, w := range p.all(vigilWarning) {
		b.inv.Warnings = append(b.inv.Warnings, parseWarning(w))
	}
	if how := p.all(vigilImage + "base:identifiedBy"); len(how) > 0 {
		layers, _ := strconv.Atoi(p.get(vigilImage + "base:layers"))
		a.Base = &inventory.Base{Name: p.get(vigilImage + "base:name"), Digest: p.get(vigilImage + "base:digest"), Layers: max(layers, 0), IdentifiedBy: how}
	}
	a.OS = d.os
	if a.OS == nil {
		a.OS = b.osFromPurls()
	}
	if os := a.OS; os != nil && os.EOSLDate == "" && !p.hasPrefix(vigilImage) {
		if date, ok := distro.EOSLDate(os.Family, os.Name); ok {
			os.EOSLDate = date
			end, _ := time.Parse(time.DateOnly, date)
			os.EOSL = !time.Now().Before(end)
		}
	}
}

// osFromPurls is the OS of the first OS package whose purl names one.
func (b *builder) osFromPurls() *inventory.OS {
	for _, n := range b.doc.nodes {
		if n.kind != kindPackage {
			continue
		}
		u, err := packageurl.FromString(n.purl)
		if err != nil || !isOSPurl(u.Type) {
			continue
		}
		if family, version := purlDistro(u); family != "" && version != "" {
			return &inventory.OS{Family: family, Name: version}
		}
	}
	return nil
}

// assignParents walks the graph from each result node, in document order,
// and gives every package it reaches that result as its parent.
func (b *builder) assignParents() {
	nodes := b.doc.nodes
	b.parent = make([]int, len(nodes))
	byRef := map[string]int{}
	for i, n := range nodes {
		b.parent[i] = -1
		if n.ref != "" {
			byRef[n.ref] = i
		}
	}
	for r, n := range nodes {
		if n.kind != kindResult {
			continue
		}
		queue := slices.Clone(n.out)
		for len(queue) > 0 {
			ref := queue[0]
			queue = queue[1:]
			i, ok := byRef[ref]
			if !ok || nodes[i].kind != kindPackage || b.parent[i] >= 0 {
				continue
			}
			b.parent[i] = r
			queue = append(queue, nodes[i].out...)
		}
	}
}

// pkg converts the package node i and says which result it belongs to. It
// reports false for a node it cannot use (no purl, a bad purl).
func (b *builder) pkg(i int) (pkg inventory.Package, class, typ, target string, ok bool) {
	n := &b.doc.nodes[i]
	if n.props.hasPrefix(vigilPackage) {
		return b.vigilPkg(n)
	}
	u, err := packageurl.FromString(n.purl)
	if err != nil {
		slog.Warn("sbom: skipping a package with a bad purl", "file", b.doc.file, "package", n.name, "purl", n.purl, "err", err)
		return pkg, "", "", "", false
	}
	p := n.props
	q := u.Qualifiers.Map()
	pkg = inventory.Package{
		Purl:     n.purl,
		Licenses: n.licenses,
		Vendor:   n.supplier,
		Arch:     q["arch"],
		Layer: inventory.LayerRef{
			DiffID: p.first(trivy+"LayerDiffID", "syft:location:0:layerID"),
			Digest: p.get(trivy + "LayerDigest"),
		},
		FilePath:        strings.TrimPrefix(p.get(trivy+"FilePath"), "/"),
		Modularitylabel: p.get(trivy + "Modularitylabel"),
	}
	var parentName, parentType string
	if r := b.parent[i]; r >= 0 {
		parentName = b.doc.nodes[r].name
		parentType = b.doc.nodes[r].props.first(vigilResult+"type", trivy+"Type")
	}
	if isOSPurl(u.Type) {
		pkg.Name = u.Name
		pkg.Version, pkg.Epoch = osVersion(u)
		pkg.SourceName, pkg.SourceVersion = osSource(u, p, pkg.Version, pkg.Epoch)
		class = inventory.ClassOSPkgs
		family, release := purlDistro(u)
		if os := b.inv.Artifact.OS; os != nil {
			family, release = os.Family, os.Name
		}
		typ = cmp.Or(p.get(trivy+"PkgType"), family, u.Type)
		target = cmp.Or(parentName, strings.TrimSpace(b.inv.Artifact.Name+" ("+strings.TrimSpace(family+" "+release)+")"))
	} else {
		pkg.Name = langName(u)
		pkg.Version = cmp.Or(u.Version, n.version)
		class = inventory.ClassLangPkgs
		typ = cmp.Or(p.get(trivy+"PkgType"), parentType, langTypes[u.Type], u.Type)
		path := strings.TrimPrefix(p.get("syft:location:0:path"), "/")
		target = cmp.Or(parentName, pkg.FilePath, path, typ)
		if pkg.FilePath == "" {
			pkg.FilePath = cmp.Or(path, parentName)
		}
	}
	pkg.ID = cmp.Or(p.get(trivy+"PkgID"), pkg.Name+"@"+pkg.Version)
	return pkg, class, typ, target, true
}

// vigilPkg reads a package back from the properties vigil writes.
func (b *builder) vigilPkg(n *node) (pkg inventory.Package, class, typ, target string, ok bool) {
	get := func(name string) string { return n.props.get(vigilPackage + name) }
	epoch, _ := strconv.Atoi(get("epoch"))
	pkg = inventory.Package{
		ID:              get("id"),
		Name:            n.name,
		Version:         n.version,
		Epoch:           epoch,
		SourceName:      get("sourceName"),
		SourceVersion:   get("sourceVersion"),
		Arch:            get("arch"),
		Purl:            n.purl,
		Licenses:        n.licenses,
		Vendor:          n.supplier,
		Maintainer:      get("maintainer"),
		Modularitylabel: get("modularitylabel"),
		Root:            get("root") == "true",
		Dev:             get("dev") == "true",
		Indirect:        get("indirect") == "true",
		Origin:          get("origin"),
		FilePath:        get("filePath"),
		Layer:           inventory.LayerRef{Digest: get("layerDigest"), DiffID: get("layerDiffID"), CreatedBy: get("layerCreatedBy"), Base: get("layerBase") == "true"},
	}
	class, typ, target = get("class"), get("type"), get("target")
	if class == "" || typ == "" {
		return pkg, "", "", "", false
	}
	return pkg, class, typ, target, true
}

// layers fills Artifact.Layers from the diffIDs the root lists, completing
// each from the layer references of the packages; without such a list,
// from the packages' layers in order of first appearance.
func (b *builder) layers() {
	p := b.doc.root.props
	diffIDs := p.all(vigilImage+"layerDiffID", trivy+"DiffID")
	refs := map[string]inventory.LayerRef{}
	var seen []string
	for _, res := range b.inv.Results {
		for _, pkg := range res.Packages {
			l := pkg.Layer
			if l.DiffID == "" {
				continue
			}
			if _, ok := refs[l.DiffID]; !ok {
				seen = append(seen, l.DiffID)
				refs[l.DiffID] = l
			}
		}
	}
	if len(diffIDs) == 0 {
		diffIDs = seen
	}
	for _, d := range diffIDs {
		l := refs[d]
		b.inv.Artifact.Layers = append(b.inv.Artifact.Layers, inventory.Layer{Digest: l.Digest, DiffID: d, CreatedBy: l.CreatedBy})
	}
}

// osOf reads an operating-system component or package.
func osOf(n node) *inventory.OS {
	if n.name == "" || n.version == "" {
		return nil
	}
	return &inventory.OS{
		Family:     family(n.name),
		Name:       n.version,
		PrettyName: n.props.get(vigilOS + "prettyName"),
		EOSL:       n.props.get(vigilOS+"eosl") == "true",
		EOSLDate:   n.props.get(vigilOS + "eoslDate"),
	}
}

// layerRE matches the diff ID that leads a warning written by
// inventory.Warning.String.
var layerRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}: `)

// parseWarning reads back a warning as inventory.Warning.String writes it:
// "[layer: ][\"path\": ]message".
func parseWarning(s string) inventory.Warning {
	var w inventory.Warning
	if m := layerRE.FindString(s); m != "" {
		w.Layer, s = strings.TrimSuffix(m, ": "), s[len(m):]
	}
	if q, err := strconv.QuotedPrefix(s); err == nil && strings.HasPrefix(s[len(q):], ": ") {
		if p, err := strconv.Unquote(q); err == nil {
			w.Path, s = p, s[len(q)+2:]
		}
	}
	w.Message = s
	return w
}
