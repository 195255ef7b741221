// Package oracle loads Oracle Linux security advisories (ELSA) from
// Oracle's OVAL feed, <base>/com.oracle.elsa-all.xml.bz2 with base
// https://linux.oracle.com/security/oval: one bzip2-compressed OVAL 5
// document holding a definition per ELSA for every Oracle Linux release.
//
// The document is streamed (bzip2 → encoding/xml tokens) one definition
// at a time. Each definition becomes:
//   - a Vulnerability with the ELSA id ("ELSA-2024-1234"), its CVEs as
//     aliases (so a finding is reported under the CVE when the ELSA names
//     exactly one), title, description, issue date, errata URL and the
//     ELSA severity under source "oracle";
//   - one Affected per (Oracle Linux major, binary rpm name) with status
//     fixed, ecosystem "oracle:<major>", scheme rpm, a range
//     {introduced 0, fixed EVR} per distinct fixed EVR and the ELSA
//     severity (CRITICAL, IMPORTANT→HIGH, MODERATE→MEDIUM, LOW).
//
// Packages and versions are read from the criteria comments Oracle writes
// ("bind is earlier than 30:9.3.3-8.el5", "Oracle Linux 8 is installed",
// "Oracle Linux arch is aarch64"), as Trivy and Grype do; the tests, objects
// and states sections are not needed and not read, which is what lets the
// document be streamed. The release comes from the "is installed"
// criterion, else from the "Oracle Linux N" platform.
//
// Arch restrictions: an "Oracle Linux arch is X" criterion names the
// machine architecture, while vigil matches a package's own arch, so X
// becomes the package arches installable there: x86_64 → x86_64, i686,
// i386, noarch; aarch64 → aarch64, noarch; other X → X, noarch. A package
// listed without an arch criterion is not restricted.
//
// Package flavours: Ksplice user-space builds (release containing
// ".ksplice") and FIPS builds (release ending "_fips") replace the normal
// package under the same name with a higher epoch; mixing their fixed
// versions with the normal ones would flag every normal build, and vigil's
// model has no flavour key yet, so they are counted and skipped. UEK
// kernels are distinct package names (kernel-uek*) with ".el8uek"
// releases and need no special handling.
//
// Limits: ELSA descriptions (often long kernel changelogs) are cut at
// 8 KiB. Negated criteria and signature-key checks are ignored.
package oracle

import (
	"compress/bzip2"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/vigil-scanner/vigil/version/rpm"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/oval"
)

// DefaultBase is Oracle's OVAL directory.
const DefaultBase = "https://linux.oracle.com/security/oval"

// File is the feed's file below the base.
const File = "com.oracle.elsa-all.xml.bz2"

const (
	name           = "oracle"
	maxDocument    = 8 << 30 // bound on the decompressed document
	maxDescription = 8 << 10
)

// Options configure the source.
type Options struct {
	// Logger receives warnings; nil means slog.Default.
	Logger *slog.Logger
}

// Source is the Oracle Linux ELSA OVAL feed.
type Source struct {
	logger *slog.Logger
}

// New returns the source "oracle" configured by opts.
func New(opts Options) *Source { return &Source{logger: opts.Logger} }

// Name implements vulndb.Source.
func (s *Source) Name() string { return name }

// DefaultBase implements vulndb.Source.
func (s *Source) DefaultBase() string { return DefaultBase }

func (s *Source) log() *slog.Logger {
	if s.logger == nil {
		return slog.Default()
	}
	return s.logger
}

// Load implements vulndb.Source.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	r, err := f.Open(ctx, File)
	if err != nil {
		return fmt.Errorf("oracle: %w", err)
	}
	defer r.Close()
	if err := s.parse(ctx, bzip2.NewReader(r), sink); err != nil {
		return fmt.Errorf("oracle: %s: %w", File, err)
	}
	return nil
}

// stats counts what a parse kept and skipped.
type stats struct {
	definitions, skipped, flavoured int
}

// parse reads an uncompressed OVAL document.
func (s *Source) parse(ctx context.Context, r io.Reader, sink vulndb.Sink) error {
	lr := &io.LimitedReader{R: r, N: maxDocument + 1}
	var st stats
	err := oval.Decode(ctx, lr, oval.Handler{
		Definition: func(d *oval.Definition) error { return s.definition(ctx, d, sink, &st) },
	})
	if lr.N <= 0 {
		return fmt.Errorf("document is larger than %d bytes", int64(maxDocument))
	}
	if err != nil {
		return err
	}
	if st.definitions == 0 {
		return fmt.Errorf("no ELSA definitions in the document")
	}
	s.log().Debug("oracle: loaded", "definitions", st.definitions, "skipped", st.skipped, "ksplice_or_fips_packages", st.flavoured)
	return nil
}

// fix is one "<name> is earlier than <evr>" found under a release and
// machine arch.
type fix struct {
	release, arch, name, evr string
}

func (s *Source) definition(ctx context.Context, d *oval.Definition, sink vulndb.Sink, st *stats) error {
	rec, err := convert(d, st)
	if err != nil {
		st.skipped++
		s.log().Warn("oracle: skipping malformed definition", "definition", d.ID, "err", err)
		return nil
	}
	for _, w := range rec.warnings {
		s.log().Warn("oracle: skipping package entry", "definition", d.ID, "id", rec.vuln.ID, "problem", w)
	}
	if err := sink.PutVulnerability(ctx, rec.vuln); err != nil {
		return fmt.Errorf("%s: %w", rec.vuln.ID, err)
	}
	for _, a := range rec.affected {
		if err := sink.PutAffected(ctx, a); err != nil {
			return fmt.Errorf("%s: %w", rec.vuln.ID, err)
		}
	}
	st.definitions++
	return nil
}

type record struct {
	vuln     vulndb.Vulnerability
	affected []vulndb.Affected
	warnings []string
}

// convert turns one ELSA definition into records.
func convert(d *oval.Definition, st *stats) (*record, error) {
	md := &d.Metadata
	id := elsaID(md)
	if id == "" {
		return nil, fmt.Errorf("no ELSA id in its references or title %q", oval.Text(md.Title))
	}
	rec := &record{}
	sev := severity(md.Advisory.Severity)
	v := vulndb.Vulnerability{
		ID:          id,
		Title:       oval.Text(md.Title),
		Description: description(md.Description),
		References:  []string{"https://linux.oracle.com/errata/" + id + ".html"},
		Sources:     []string{name},
	}
	if sev != "" {
		v.Severities = []vulndb.Severity{{Source: name, Severity: sev}}
	}
	for _, ref := range md.References {
		if strings.EqualFold(ref.Source, "CVE") && strings.HasPrefix(ref.RefID, "CVE-") {
			v.Aliases = appendUnique(v.Aliases, ref.RefID)
		}
	}
	for _, c := range md.Advisory.CVEs {
		if cve := strings.TrimSpace(c.ID); strings.HasPrefix(cve, "CVE-") {
			v.Aliases = appendUnique(v.Aliases, cve)
		}
	}
	if t, err := time.Parse(time.DateOnly, md.Advisory.Issued.Date); err == nil {
		v.Published = t
	}

	var fixes []fix
	walk(&d.Criteria, fix{release: platformRelease(md.Platforms)}, &fixes)
	if len(fixes) == 0 {
		return nil, fmt.Errorf("%s: no \"<package> is earlier than <version>\" criteria", id)
	}
	type key struct{ release, name string }
	type group struct {
		evrs, arches []string
		anyArch      bool
	}
	groups := map[key]*group{}
	var order []key
	for _, fx := range fixes {
		switch {
		case fx.release == "":
			rec.warnings = append(rec.warnings, fmt.Sprintf("%s: no Oracle Linux release", fx.name))
			continue
		case !validName(fx.name):
			rec.warnings = append(rec.warnings, fmt.Sprintf("invalid package name %q", fx.name))
			continue
		}
		if _, err := rpm.Parse(fx.evr); err != nil {
			rec.warnings = append(rec.warnings, fmt.Sprintf("%s: invalid version %q: %v", fx.name, fx.evr, err))
			continue
		}
		if flavoured(fx.evr) {
			st.flavoured++
			continue
		}
		k := key{fx.release, fx.name}
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
			order = append(order, k)
		}
		g.evrs = appendUnique(g.evrs, trimZeroEpoch(fx.evr))
		if fx.arch == "" {
			g.anyArch = true
		} else {
			for _, a := range packageArches(fx.arch) {
				g.arches = appendUnique(g.arches, a)
			}
		}
	}
	for _, k := range order {
		g := groups[k]
		sortEVRs(g.evrs)
		a := vulndb.Affected{
			VulnID:    id,
			Source:    name,
			Ecosystem: "oracle:" + k.release,
			Package:   k.name,
			Fixed:     g.evrs,
			Status:    vulndb.StatusFixed,
			Severity:  sev,
		}
		for _, evr := range g.evrs {
			a.Ranges = append(a.Ranges, vulndb.Range{
				Scheme: vulndb.SchemeRPM,
				Events: []vulndb.Event{{Introduced: "0"}, {Fixed: evr}},
			})
		}
		if !g.anyArch {
			slices.Sort(g.arches)
			a.Arches = g.arches
		}
		rec.affected = append(rec.affected, a)
	}
	rec.vuln = v
	return rec, nil
}

// walk collects the package criteria below c. Release and arch criteria
// of an AND node apply to everything below that node.
func walk(c *oval.Criteria, ctx fix, out *[]fix) {
	if c.Negate {
		return
	}
	if c.IsAnd() {
		for _, cr := range c.Criterion {
			if cr.Negate {
				continue
			}
			if r, ok := installedRelease(cr.Comment); ok {
				ctx.release = r
			}
			if a, ok := strings.CutPrefix(cr.Comment, "Oracle Linux arch is "); ok {
				ctx.arch = strings.TrimSpace(a)
			}
		}
	}
	for _, cr := range c.Criterion {
		if cr.Negate {
			continue
		}
		if n, evr, ok := strings.Cut(cr.Comment, " is earlier than "); ok {
			fx := ctx
			fx.name, fx.evr = strings.TrimSpace(n), strings.TrimSpace(evr)
			*out = append(*out, fx)
		}
	}
	for i := range c.Criteria {
		walk(&c.Criteria[i], ctx, out)
	}
}

// installedRelease parses "Oracle Linux 8 is installed".
func installedRelease(comment string) (string, bool) {
	rest, ok := strings.CutPrefix(comment, "Oracle Linux ")
	if !ok {
		return "", false
	}
	r, ok := strings.CutSuffix(rest, " is installed")
	if !ok || !isDigits(r) {
		return "", false
	}
	return r, true
}

// platformRelease returns N when the definition names exactly one
// "Oracle Linux N" platform.
func platformRelease(platforms []string) string {
	var rel string
	for _, p := range platforms {
		r, ok := strings.CutPrefix(oval.Text(p), "Oracle Linux ")
		if !ok || !isDigits(r) {
			continue
		}
		if rel != "" && rel != r {
			return ""
		}
		rel = r
	}
	return rel
}

// elsaID returns the definition's ELSA id from its "elsa" reference or,
// failing that, the start of its title ("ELSA-2007-0057: …").
func elsaID(md *oval.Metadata) string {
	for _, ref := range md.References {
		if strings.EqualFold(ref.Source, "elsa") && strings.HasPrefix(ref.RefID, "ELSA-") {
			return ref.RefID
		}
	}
	t := oval.Text(md.Title)
	if !strings.HasPrefix(t, "ELSA-") {
		return ""
	}
	if i := strings.IndexAny(t, ": "); i > 0 {
		return t[:i]
	}
	return t
}

// severity normalises an ELSA severity.
func severity(s string) string {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "CRITICAL":
		return "CRITICAL"
	case "IMPORTANT", "HIGH":
		return "HIGH"
	case "MODERATE", "MEDIUM":
		return "MEDIUM"
	case "LOW":
		return "LOW"
	case "":
		return ""
	}
	return "UNKNOWN"
}

// packageArches maps a machine arch to the package arches installed on it.
func packageArches(machine string) []string {
	switch machine {
	case "x86_64":
		return []string{"x86_64", "i686", "i386", "noarch"}
	case "aarch64":
		return []string{"aarch64", "noarch"}
	case "i386", "i686":
		return []string{"i386", "i686", "noarch"}
	}
	return []string{machine, "noarch"}
}

// flavoured reports whether evr is a Ksplice user-space or FIPS build.
func flavoured(evr string) bool {
	l := strings.ToLower(evr)
	return strings.Contains(l, ".ksplice") || strings.HasSuffix(l, "_fips")
}

func trimZeroEpoch(evr string) string {
	return strings.TrimPrefix(evr, "0:")
}

// sortEVRs sorts valid rpm EVRs lowest first.
func sortEVRs(evrs []string) {
	slices.SortStableFunc(evrs, func(a, b string) int {
		c, _ := rpm.Compare(a, b)
		return c
	})
}

func description(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxDescription {
		return s
	}
	cut := maxDescription
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func validName(n string) bool {
	return n != "" && len(n) <= 256 && !strings.ContainsAny(n, " \t\n\r\x00/")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
