// Package cyclonedx writes a report as a CycloneDX 1.6 JSON BOM
// (https://cyclonedx.org/docs/1.6/json/): the image as metadata.component,
// its operating system and each language target as components, one
// component per package, the dependency graph, and the findings as
// vulnerabilities. Each warning of an incomplete scan is an annotation by
// vigil on the image ("vigil: scan incomplete: …").
//
// Output is reproducible: the timestamp is the report's CreatedAt and the
// serial number is a name-based UUID of the BOM's own content.
package cyclonedx

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/vigil-scanner/vigil/internal/spdxlicense"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/internal/sbom"
	"github.com/vigil-scanner/vigil/report/internal/vexstmt"
)

// Write writes r to w as a CycloneDX 1.6 JSON BOM. opts.AppVersion is
// recorded as the version of the vigil tool.
func Write(w io.Writer, r *report.Report, opts report.Options) error {
	return writeSerialized(w, BOM(r, opts), serialNamespace, "CycloneDX")
}

// newBOM starts a CycloneDX 1.6 document about r's artifact (root, the
// metadata component) made by vigil (tool), at the report's time.
func newBOM(r *report.Report, opts report.Options) (bom *cdx.BOM, root cdx.Component, tool cdx.Component) {
	bom = cdx.NewBOM()
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	bom.SpecVersion = cdx.SpecVersion1_6
	root = rootComponent(r.Artifact)
	tool = cdx.Component{Type: cdx.ComponentTypeApplication, Group: "vigil-scanner", Name: "vigil", Version: opts.AppVersion}
	bom.Metadata = &cdx.Metadata{
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{tool}},
		Component: &root,
	}
	if !r.CreatedAt.IsZero() {
		bom.Metadata.Timestamp = r.CreatedAt.UTC().Format(time.RFC3339)
	}
	return bom, root, tool
}

// writeSerialized writes bom with a serial number derived from its content
// (a UUIDv5 in namespace of the document without one), so the same report
// always gives the same document. what names the document in errors.
func writeSerialized(w io.Writer, bom *cdx.BOM, namespace [16]byte, what string) error {
	var buf bytes.Buffer
	if err := encode(&buf, bom); err != nil {
		return err
	}
	bom.SerialNumber = "urn:uuid:" + sbom.UUIDv5(namespace, buf.Bytes())
	buf.Reset()
	if err := encode(&buf, bom); err != nil {
		return err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing %s: %w", what, err)
	}
	return nil
}

func encode(w io.Writer, bom *cdx.BOM) error {
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("encoding CycloneDX: %w", err)
	}
	return nil
}

// Property name prefixes.
const (
	propImage   = "vigil:image:"
	propOS      = "vigil:os:"
	propResult  = "vigil:result:"
	propPackage = "vigil:package:"
	propVuln    = "vigil:vulnerability:"
)

// BOM converts r to a CycloneDX BOM without a serial number.
func BOM(r *report.Report, opts report.Options) *cdx.BOM {
	bom, root, tool := newBOM(r, opts)

	refs := sbom.PackageRefs(r)
	var comps []cdx.Component
	deps := map[string][]string{root.BOMRef: nil}
	order := []string{root.BOMRef}
	addDep := func(from string, to ...string) {
		if _, ok := deps[from]; !ok {
			order = append(order, from)
		}
		deps[from] = append(deps[from], to...)
	}

	osRef := ""
	if osInfo := r.Artifact.OS; osInfo != nil {
		c := osComponent(*osInfo)
		osRef = c.BOMRef
		comps = append(comps, c)
		addDep(root.BOMRef, osRef)
		addDep(osRef)
	}
	for i, res := range r.Results {
		parent := osRef
		if res.Class != inventory.ClassOSPkgs || parent == "" {
			c := resultComponent(res)
			parent = c.BOMRef
			comps = append(comps, c)
			addDep(root.BOMRef, parent)
			addDep(parent)
		}
		for _, j := range sbom.Roots(res) {
			addDep(parent, refs[i][j])
		}
		byKey := map[string]string{}
		for j, pkg := range res.Packages {
			byKey[sbom.PackageKey(pkg)] = refs[i][j]
		}
		for j, pkg := range res.Packages {
			comps = append(comps, packageComponent(res, pkg, refs[i][j]))
			addDep(refs[i][j])
			for _, d := range pkg.DependsOn {
				if ref, ok := byKey[d]; ok && ref != refs[i][j] {
					addDep(refs[i][j], ref)
				} else if !ok {
					slog.Debug("cyclonedx: dependency not found in its result", "target", res.Target, "package", sbom.PackageKey(pkg), "dependsOn", d)
				}
			}
		}
	}
	if len(comps) > 0 {
		bom.Components = &comps
	}
	dependencies := make([]cdx.Dependency, 0, len(order))
	for _, ref := range order {
		d := cdx.Dependency{Ref: ref}
		if to := deps[ref]; len(to) > 0 {
			slices.Sort(to)
			to = slices.Compact(to)
			d.Dependencies = &to
		}
		dependencies = append(dependencies, d)
	}
	bom.Dependencies = &dependencies

	if vulns := vulnerabilities(r, refs); len(vulns) > 0 {
		bom.Vulnerabilities = &vulns
	}
	if anns := annotations(r, root.BOMRef, tool); len(anns) > 0 {
		bom.Annotations = &anns
	}
	return bom
}

// IncompletePrefix leads the text of the annotation of each warning.
const IncompletePrefix = "vigil: scan incomplete: "

// annotations are the warnings of an incomplete scan, each an annotation
// by vigil on the scanned artifact, its text IncompletePrefix followed by
// the warning as inventory.Warning.String writes it.
func annotations(r *report.Report, root string, tool cdx.Component) []cdx.Annotation {
	var out []cdx.Annotation
	// The schema requires a timestamp: the scan's.
	ts := r.CreatedAt.UTC().Format(time.RFC3339)
	for i, w := range r.Warnings {
		out = append(out, cdx.Annotation{
			BOMRef:    "vigil:warning:" + strconv.Itoa(i+1),
			Subjects:  &[]cdx.BOMReference{cdx.BOMReference(root)},
			Annotator: &cdx.Annotator{Component: &tool},
			Timestamp: ts,
			Text:      IncompletePrefix + w.String(),
		})
	}
	return out
}

func rootComponent(a inventory.Artifact) cdx.Component {
	c := cdx.Component{
		Name:       a.Name,
		Type:       cdx.ComponentTypeApplication,
		PackageURL: sbom.ImagePurl(a),
	}
	if a.Type == inventory.TypeContainerImage {
		c.Type = cdx.ComponentTypeContainer
		c.Version = sbom.ImageVersion(a)
	}
	if c.Version == "" {
		c.Version = a.Commit // a repository's version is its commit
	}
	c.BOMRef = cmp.Or(c.PackageURL, a.ImageID, "vigil:artifact:"+a.Name)
	var props []cdx.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: propImage + name, Value: value})
		}
	}
	add("type", a.Type)
	add("imageID", a.ImageID)
	for _, d := range a.RepoDigests {
		add("repoDigest", d)
	}
	for _, t := range a.RepoTags {
		add("repoTag", t)
	}
	add("platform", a.Platform)
	add("commit", a.Commit)
	for _, l := range a.Layers {
		add("layerDiffID", l.DiffID)
	}
	if b := a.Base; b != nil {
		add("base:name", b.Name)
		add("base:digest", b.Digest)
		add("base:layers", strconv.Itoa(b.Layers))
		for _, how := range b.IdentifiedBy {
			add("base:identifiedBy", how)
		}
	}
	c.Properties = nilIfEmpty(props)
	return c
}

func osComponent(os inventory.OS) cdx.Component {
	c := cdx.Component{
		BOMRef:  "vigil:os:" + os.Family + "@" + os.Name,
		Type:    cdx.ComponentTypeOS,
		Name:    os.Family,
		Version: os.Name,
	}
	var props []cdx.Property
	if os.PrettyName != "" {
		props = append(props, cdx.Property{Name: propOS + "prettyName", Value: os.PrettyName})
	}
	if os.EOSL {
		props = append(props, cdx.Property{Name: propOS + "eosl", Value: "true"})
	}
	if os.EOSLDate != "" {
		props = append(props, cdx.Property{Name: propOS + "eoslDate", Value: os.EOSLDate})
	}
	c.Properties = nilIfEmpty(props)
	return c
}

// resultComponent is the application component for a lockfile, binary or
// other language target.
func resultComponent(res report.Result) cdx.Component {
	return cdx.Component{
		BOMRef: "vigil:result:" + res.Type + ":" + res.Target,
		Type:   cdx.ComponentTypeApplication,
		Name:   res.Target,
		Properties: &[]cdx.Property{
			{Name: propResult + "class", Value: res.Class},
			{Name: propResult + "type", Value: res.Type},
		},
	}
}

func packageComponent(res report.Result, pkg inventory.Package, ref string) cdx.Component {
	c := cdx.Component{
		BOMRef:     ref,
		Type:       cdx.ComponentTypeLibrary,
		Name:       pkg.Name,
		Version:    pkg.Version,
		PackageURL: pkg.Purl,
		Licenses:   licenses(pkg.Licenses),
	}
	if pkg.Vendor != "" {
		c.Supplier = &cdx.OrganizationalEntity{Name: pkg.Vendor}
	}
	var props []cdx.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: propPackage + name, Value: value})
		}
	}
	add("id", pkg.ID)
	add("sourceName", pkg.SourceName)
	add("sourceVersion", pkg.SourceVersion)
	if pkg.Epoch != 0 {
		add("epoch", strconv.Itoa(pkg.Epoch))
	}
	add("arch", pkg.Arch)
	add("maintainer", pkg.Maintainer)
	add("modularitylabel", pkg.Modularitylabel)
	if res.Class == inventory.ClassLangPkgs {
		// Development dependencies are not part of what runs.
		c.Scope = cdx.ScopeRequired
		if pkg.Dev {
			c.Scope = cdx.ScopeExcluded
		}
	}
	if pkg.Root {
		add("root", "true")
	}
	if pkg.Dev {
		add("dev", "true")
	}
	if pkg.Indirect {
		add("indirect", "true")
	}
	add("origin", pkg.Origin)
	add("filePath", pkg.FilePath)
	add("layerDigest", pkg.Layer.Digest)
	add("layerDiffID", pkg.Layer.DiffID)
	add("layerCreatedBy", pkg.Layer.CreatedBy)
	if pkg.Layer.Base {
		add("layerBase", "true")
	}
	add("class", res.Class)
	add("type", res.Type)
	add("target", res.Target)
	c.Properties = nilIfEmpty(props)
	return c
}

// licenses maps package licenses to CycloneDX: a single valid compound
// expression as an expression, otherwise one license per entry, by SPDX id
// when it is one and by name when not.
func licenses(ls []string) *cdx.Licenses {
	if len(ls) == 0 {
		return nil
	}
	if len(ls) == 1 {
		if e, ok := spdxlicense.Expression(ls[0]); ok && spdxlicense.IsCompound(e) {
			return &cdx.Licenses{{Expression: e}}
		}
	}
	out := make(cdx.Licenses, 0, len(ls))
	for _, l := range ls {
		if id, ok := spdxlicense.ID(l); ok {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{ID: id}})
		} else {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: l}})
		}
	}
	return &out
}

func nilIfEmpty(props []cdx.Property) *[]cdx.Property {
	if len(props) == 0 {
		return nil
	}
	return &props
}

// serialNamespace is the UUID namespace of vigil's BOM serial numbers, a
// fixed value chosen for vigil.
var serialNamespace = [16]byte{0x1d, 0x7c, 0x4e, 0x0a, 0x5b, 0x29, 0x5f, 0x3e, 0x9a, 0x61, 0x0c, 0x8e, 0x2f, 0x43, 0xb7, 0x15}

// vulnerabilities groups the findings by id and suppression, keeping the
// order in which each id first appears.
func vulnerabilities(r *report.Report, refs [][]string) []cdx.Vulnerability {
	type group struct {
		v       cdx.Vulnerability
		ratings map[string]bool
		affects []cdx.Affects
		seen    map[string]bool
	}
	var keys []string
	groups := map[string]*group{}
	for i, res := range r.Results {
		byKey := map[string]string{}
		for j, pkg := range res.Packages {
			byKey[sbom.PackageKey(pkg)] = refs[i][j]
			if _, ok := byKey[pkg.Name+"@"+pkg.Version]; !ok {
				byKey[pkg.Name+"@"+pkg.Version] = refs[i][j]
			}
		}
		for _, f := range res.Vulnerabilities {
			an := analysis(&f, res.Target)
			key := f.ID + "\x00" + suppressionKey(f.Suppressed) + "\x00" + analysisKey(an)
			g, ok := groups[key]
			if !ok {
				g = &group{v: newVulnerability(f, an), ratings: map[string]bool{}, seen: map[string]bool{}}
				groups[key] = g
				keys = append(keys, key)
			}
			addRatings(&g.v, g.ratings, f)
			ref, ok := byKey[cmp.Or(f.PkgID, f.PkgName+"@"+f.InstalledVersion)]
			if !ok {
				ref, ok = byKey[f.PkgName+"@"+f.InstalledVersion]
			}
			if !ok {
				slog.Warn("cyclonedx: finding's package is not in its result", "target", res.Target, "id", f.ID, "package", f.PkgName)
				continue
			}
			if g.seen[ref] {
				continue
			}
			g.seen[ref] = true
			g.affects = append(g.affects, affects(f, ref))
		}
	}
	out := make([]cdx.Vulnerability, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		if len(g.affects) > 0 {
			g.v.Affects = &g.affects
		}
		out = append(out, g.v)
	}
	return out
}

func suppressionKey(s *match.Suppression) string {
	if s == nil {
		return ""
	}
	return strings.Join([]string{s.Kind, s.Source, s.Statement, s.Status, s.Justification, s.Reason}, "\x00")
}

func newVulnerability(f match.Finding, an *cdx.VulnerabilityAnalysis) cdx.Vulnerability {
	v := cdx.Vulnerability{
		ID:          f.ID,
		Description: cmp.Or(f.Description, f.Title),
	}
	if ds := f.DataSource; ds != nil {
		v.Source = &cdx.Source{Name: cmp.Or(ds.Name, ds.ID), URL: ds.URL}
	}
	var refs []cdx.VulnerabilityReference
	for _, a := range f.Aliases {
		refs = append(refs, cdx.VulnerabilityReference{ID: a, Source: aliasSource(a)})
	}
	if len(refs) > 0 {
		v.References = &refs
	}
	var cwes []int
	for _, c := range f.CWEs {
		if n, err := strconv.Atoi(strings.TrimPrefix(strings.ToUpper(c), "CWE-")); err == nil && n > 0 {
			cwes = append(cwes, n)
		}
	}
	if len(cwes) > 0 {
		v.CWEs = &cwes
	}
	var advisories []cdx.Advisory
	for _, u := range dedupe(append([]string{f.PrimaryURL}, f.References...)) {
		advisories = append(advisories, cdx.Advisory{URL: u})
	}
	if len(advisories) > 0 {
		v.Advisories = &advisories
	}
	if !f.PublishedDate.IsZero() {
		v.Published = f.PublishedDate.UTC().Format(time.RFC3339)
	}
	if !f.LastModifiedDate.IsZero() {
		v.Updated = f.LastModifiedDate.UTC().Format(time.RFC3339)
	}
	v.Analysis = an

	var props []cdx.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: propVuln + name, Value: value})
		}
	}
	add("title", f.Title)
	add("status", string(f.Status))
	if f.EPSS != nil {
		add("epss:score", strconv.FormatFloat(f.EPSS.Score, 'f', -1, 64))
		add("epss:percentile", strconv.FormatFloat(f.EPSS.Percentile, 'f', -1, 64))
	}
	if f.KEV != nil {
		add("kev:dateAdded", f.KEV.DateAdded)
		add("kev:dueDate", f.KEV.DueDate)
		add("kev:knownRansomwareCampaignUse", f.KEV.KnownRansomwareCampaignUse)
	}
	add("reachability", f.Reachability)
	if s := f.Suppressed; s != nil {
		add("suppressed:kind", s.Kind)
		add("suppressed:source", s.Source)
		add("suppressed:statement", s.Statement)
	}
	v.Properties = nilIfEmpty(props)
	return v
}

func aliasSource(id string) *cdx.Source {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + id}
	case strings.HasPrefix(id, "GHSA-"):
		return &cdx.Source{Name: "GitHub Advisory Database", URL: "https://github.com/advisories/" + id}
	case strings.HasPrefix(id, "GO-"):
		return &cdx.Source{Name: "Go Vulnerability Database", URL: "https://pkg.go.dev/vuln/" + id}
	}
	return &cdx.Source{Name: "OSV", URL: "https://osv.dev/vulnerability/" + id}
}

// addRatings adds f's severity and CVSS ratings to v, once per source,
// method and vector.
func addRatings(v *cdx.Vulnerability, seen map[string]bool, f match.Finding) {
	var ratings []cdx.VulnerabilityRating
	if v.Ratings != nil {
		ratings = *v.Ratings
	}
	add := func(r cdx.VulnerabilityRating) {
		key := r.Source.Name + "\x00" + string(r.Method) + "\x00" + r.Vector
		if seen[key] {
			return
		}
		seen[key] = true
		ratings = append(ratings, r)
	}
	if f.SeveritySource != "" {
		add(cdx.VulnerabilityRating{Source: &cdx.Source{Name: f.SeveritySource}, Severity: severity(f.Severity)})
	}
	sources := make([]string, 0, len(f.CVSS))
	for s := range f.CVSS {
		sources = append(sources, s)
	}
	slices.Sort(sources)
	for _, s := range sources {
		c := f.CVSS[s]
		if c.V40Vector != "" || c.V40Score != 0 {
			add(cvssRating(s, cdx.ScoringMethodCVSSv4, c.V40Vector, c.V40Score))
		}
		if c.V3Vector != "" || c.V3Score != 0 {
			m := cdx.ScoringMethodCVSSv3
			if strings.HasPrefix(c.V3Vector, "CVSS:3.1/") {
				m = cdx.ScoringMethodCVSSv31
			}
			add(cvssRating(s, m, c.V3Vector, c.V3Score))
		}
		if c.V2Vector != "" || c.V2Score != 0 {
			add(cvssRating(s, cdx.ScoringMethodCVSSv2, c.V2Vector, c.V2Score))
		}
	}
	if len(ratings) > 0 {
		v.Ratings = &ratings
	}
}

func cvssRating(source string, m cdx.ScoringMethod, vector string, score float64) cdx.VulnerabilityRating {
	r := cdx.VulnerabilityRating{Source: &cdx.Source{Name: source}, Method: m, Vector: vector}
	if score != 0 {
		r.Score = &score
		r.Severity = scoreSeverity(m, score)
	}
	return r
}

// scoreSeverity is the CVSS qualitative rating of a base score (v2 has no
// critical band).
func scoreSeverity(m cdx.ScoringMethod, score float64) cdx.Severity {
	switch {
	case score >= 9 && m != cdx.ScoringMethodCVSSv2:
		return cdx.SeverityCritical
	case score >= 7:
		return cdx.SeverityHigh
	case score >= 4:
		return cdx.SeverityMedium
	case score > 0:
		return cdx.SeverityLow
	}
	return cdx.SeverityNone
}

func severity(s string) cdx.Severity {
	switch s {
	case match.SeverityCritical:
		return cdx.SeverityCritical
	case match.SeverityHigh:
		return cdx.SeverityHigh
	case match.SeverityMedium:
		return cdx.SeverityMedium
	case match.SeverityLow:
		return cdx.SeverityLow
	}
	return cdx.SeverityUnknown
}

func affects(f match.Finding, ref string) cdx.Affects {
	status := cdx.VulnerabilityStatusAffected
	if f.Status == "not_affected" {
		status = cdx.VulnerabilityStatusNotAffected
	}
	versions := []cdx.AffectedVersions{{Version: f.InstalledVersion, Status: status}}
	fixed := f.FixedVersions
	if len(fixed) == 0 && f.FixedVersion != "" {
		fixed = strings.Split(f.FixedVersion, ", ")
	}
	for _, v := range fixed {
		versions = append(versions, cdx.AffectedVersions{Version: v, Status: cdx.VulnerabilityStatusNotAffected})
	}
	return cdx.Affects{Ref: ref, Range: &versions}
}

// analysis is the CycloneDX impact analysis of f, found in target: a VEX
// document's that suppressed it, else the not_affected statement vigil
// makes itself (package report/internal/vexstmt, as WriteVEX does): a Go
// finding whose vulnerable symbols are absent from the binary
// (code_not_reachable), an ignore-file rule's reason. Other findings carry
// none.
func analysis(f *match.Finding, target string) *cdx.VulnerabilityAnalysis {
	s := f.Suppressed
	if s == nil || s.Kind != match.SuppressedByVEX {
		st, ok := vexstmt.Of(f, target)
		if !ok || st.Status != vexstmt.StatusNotAffected {
			return nil
		}
		return &cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Justification: justification(st.Justification), Detail: st.Impact}
	}
	a := &cdx.VulnerabilityAnalysis{Detail: s.Reason}
	switch s.Status {
	case "not_affected":
		a.State = cdx.IASNotAffected
	case "fixed", "resolved":
		a.State = cdx.IASResolved
	case "false_positive":
		a.State = cdx.IASFalsePositive
	case "under_investigation", "in_triage":
		a.State = cdx.IASInTriage
	case "affected", "exploitable":
		a.State = cdx.IASExploitable
	}
	a.Justification = justification(s.Justification)
	return a
}

// analysisKey tells analyses apart, for the grouping of findings.
func analysisKey(a *cdx.VulnerabilityAnalysis) string {
	if a == nil {
		return ""
	}
	return strings.Join([]string{string(a.State), string(a.Justification), a.Detail}, "\x00")
}

// justification maps OpenVEX justifications to CycloneDX ones and passes
// CycloneDX ones through.
func justification(j string) cdx.ImpactAnalysisJustification {
	switch j {
	case "component_not_present", "vulnerable_code_not_present":
		return cdx.IAJCodeNotPresent
	case "vulnerable_code_not_in_execute_path":
		return cdx.IAJCodeNotReachable
	case "vulnerable_code_cannot_be_controlled_by_adversary":
		return cdx.IAJRequiresEnvironment
	case "inline_mitigations_already_exist":
		return cdx.IAJProtectedByMitigatingControl
	}
	switch v := cdx.ImpactAnalysisJustification(j); v {
	case cdx.IAJCodeNotPresent, cdx.IAJCodeNotReachable, cdx.IAJRequiresConfiguration,
		cdx.IAJRequiresDependency, cdx.IAJRequiresEnvironment, cdx.IAJProtectedByCompiler,
		cdx.IAJProtectedAtRuntime, cdx.IAJProtectedAtPerimeter, cdx.IAJProtectedByMitigatingControl:
		return v
	}
	return ""
}

// dedupe drops empty and repeated strings, keeping order.
func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
