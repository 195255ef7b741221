// Package table writes a report as aligned text tables for people: the
// findings of highest risk across targets (when there are more than a
// screenful), then for each target a header, count lines (of packages with
// Options.ListAllPkgs, of vulnerabilities unless Options.NoVulnScan), the
// packages (with Options.ListAllPkgs) and the findings — those of the
// image's own layers, then those of its base image under their own
// heading — and last a one-line summary. Findings are in Options.Sort
// order. Suppressed findings are counted but not listed. A footer says
// when the scan was incomplete and lists its warnings (the first
// maxWarnings of them).
package table

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
)

// maxTitle is the widest a finding's title is shown, in runes.
const maxTitle = 60

// maxWarnings is the most warnings the footer lists.
const maxWarnings = 20

// topRisks is how many findings the highest-risk table lists; it is shown
// when the report has more findings than that.
const topRisks = 5

// ANSI SGR sequences.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiBRed   = "\x1b[1;31m"
)

// Write writes r as tables to w. Colours are used only with opts.Color.
func Write(w io.Writer, r *report.Report, opts report.Options) error {
	p := &printer{w: w, color: opts.Color}
	sum := report.Summarize(r)
	if !opts.NoVulnScan && (opts.Sort == "" || opts.Sort == report.SortRisk) && sum.Findings > topRisks {
		p.highestRisk(r)
	}
	for i, res := range r.Results {
		if i > 0 {
			p.printf("\n")
		}
		p.result(r, res, opts)
	}
	if !opts.NoVulnScan && len(r.FixPlan) > 0 {
		p.fixPlan(r.FixPlan)
	}
	if !opts.NoVulnScan && len(r.BaseUpdates) > 0 {
		p.baseUpdates(r.BaseUpdates)
	}
	if !opts.NoVulnScan {
		if line := topFix(r); line != "" {
			p.printf("%s\n", line)
		}
	}
	if !opts.NoVulnScan && len(r.Results) > 0 {
		p.printf("\n%s\n", sum)
	}
	if len(r.Results) == 0 {
		// Say so: an empty output reads as a tool that did nothing, or
		// as a clean result it cannot vouch for.
		p.printf("%s: no packages found, so nothing was matched\n", artifactName(r.Artifact))
	}
	p.footer(r.Warnings, len(r.Results) > 0)
	if p.err != nil {
		return fmt.Errorf("writing table: %w", p.err)
	}
	return nil
}

// printer writes to w, remembering the first error.
type printer struct {
	w     io.Writer
	color bool
	err   error
}

func (p *printer) printf(format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, format, args...)
}

// paint wraps s in the SGR sequence code when colours are on.
func (p *printer) paint(code, s string) string {
	if !p.color || code == "" || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p *printer) result(r *report.Report, res report.Result, opts report.Options) {
	listPkgs := opts.ListAllPkgs
	p.printf("%s\n%s\n", p.paint(ansiBold, res.Target), strings.Repeat("=", utf8.RuneCountInString(res.Target)))
	if note := eoslNote(r.Artifact.OS, res.Class); note != "" {
		p.printf("%s\n", p.paint(ansiYellow, note))
	}

	shown, suppressed := splitSuppressed(res.Vulnerabilities, opts.Sort)
	var own, base []match.Finding
	for _, f := range shown {
		if f.Layer.Base {
			base = append(base, f)
		} else {
			own = append(own, f)
		}
	}
	if listPkgs {
		if n := len(res.Packages); n == 1 {
			p.printf("Total: 1 package\n")
		} else {
			p.printf("Total: %d packages\n", n)
		}
	}
	if !opts.NoVulnScan {
		p.printf("Total: %d (%s)", len(shown), p.severityCounts(shown))
		if suppressed > 0 {
			p.printf(", %d suppressed", suppressed)
		}
		p.printf("\n")
	}

	if listPkgs && len(res.Packages) > 0 {
		p.printf("\n")
		p.table(packageRows(res.Packages), nil)
	}
	if len(own) > 0 {
		p.printf("\n")
		p.table(findingRows(own))
	}
	if len(base) > 0 {
		p.printf("\n%s: %d (%s)\n", p.paint(ansiBold, baseHeading(r.Artifact.Base)), len(base), p.severityCounts(base))
		p.table(findingRows(base))
	}
}

// baseHeading names the base image's group of findings: "base image
// debian:12 (1 layer; identified by annotation, history)".
func baseHeading(b *inventory.Base) string {
	if b == nil {
		return "base image"
	}
	h := "base image"
	if b.Name != "" {
		h += " " + b.Name
	}
	var about []string
	switch b.Layers {
	case 0:
	case 1:
		about = append(about, "1 layer")
	default:
		about = append(about, fmt.Sprintf("%d layers", b.Layers))
	}
	if len(b.IdentifiedBy) > 0 {
		about = append(about, "identified by "+strings.Join(b.IdentifiedBy, ", "))
	}
	if len(about) > 0 {
		h += " (" + strings.Join(about, "; ") + ")"
	}
	return h
}

// maxFixes is how many upgrades of the fix plan the table lists.
const maxFixes = 10

// fixPlan lists the upgrades that remove the most risk, and names the
// first.
func (p *printer) fixPlan(plan []report.Fix) {
	n := min(maxFixes, len(plan))
	title := fmt.Sprintf("Fix plan (%d upgrades, most risk removed first)", len(plan))
	if n < len(plan) {
		title = fmt.Sprintf("Fix plan (%d of %d upgrades, most risk removed first)", n, len(plan))
	}
	p.printf("\n%s\n", p.paint(ansiBold, title))
	t := rows{header: []string{"UPGRADE", "INSTALLED", "TO", "REMOVES", "RISK", "TARGET"}}
	for _, f := range plan[:n] {
		name := f.Package
		if f.Base {
			name += " (base image)"
		}
		t.cells = append(t.cells, []string{name, f.InstalledVersion, fixTo(f), removes(f), strconv.FormatFloat(f.RiskRemoved, 'f', 1, 64), f.Target})
	}
	p.table(t, nil)
}

// topFix names the single change that removes the most risk: the fix
// plan's first upgrade, or the best base image update when it removes
// more. "" when there is neither.
func topFix(r *report.Report) string {
	var fix *report.Fix
	var up *report.BaseUpdate
	if len(r.FixPlan) > 0 {
		fix = &r.FixPlan[0]
	}
	if len(r.BaseUpdates) > 0 && r.BaseUpdates[0].RiskRemoved > 0 {
		up = &r.BaseUpdates[0]
	}
	if up != nil && (fix == nil || up.RiskRemoved > fix.RiskRemoved) {
		return fmt.Sprintf("Top fix: move the base image from %s to %s: %s, −%s risk", up.From, up.To, baseChange(*up), strconv.FormatFloat(up.RiskRemoved, 'f', 1, 64))
	}
	if fix == nil {
		return ""
	}
	from := ""
	if fix.InstalledVersion != "" {
		from = " " + fix.InstalledVersion
	}
	return fmt.Sprintf("Top fix: upgrade %s%s → %s in %s: −%s, −%s risk", fix.Package, from, fixTo(*fix), fix.Target,
		plural(len(fix.Findings), "vulnerability", "vulnerabilities"), strconv.FormatFloat(fix.RiskRemoved, 'f', 1, 64))
}

// baseUpdates lists the base image's candidate tags and names the best.
func (p *printer) baseUpdates(ups []report.BaseUpdate) {
	p.printf("\n%s\n", p.paint(ansiBold, fmt.Sprintf("Base image updates (from %s, most risk removed first)", ups[0].From)))
	t := rows{header: []string{"TO", "FINDINGS", "CHANGE", "RISK REMOVED"}}
	for _, u := range ups {
		t.cells = append(t.cells, []string{u.To, strconv.Itoa(u.Findings), baseChange(u), strconv.FormatFloat(u.RiskRemoved, 'f', 1, 64)})
	}
	p.table(t, nil)
}

// baseChange is "−41 findings, −3 HIGH, +1 LOW; 2 new": the net change in
// findings and per severity, and how many findings are new.
func baseChange(u report.BaseUpdate) string {
	parts := []string{signed(u.Added-u.Removed) + " findings"}
	for _, s := range match.Severities() {
		if n := u.Severities[s]; n != 0 {
			parts = append(parts, signed(n)+" "+s)
		}
	}
	out := strings.Join(parts, ", ")
	if u.Added > 0 {
		out += fmt.Sprintf("; %d new", u.Added)
	}
	return out
}

// signed writes n with its sign, a minus sign for negatives: "−3", "+1",
// "±0".
func signed(n int) string {
	switch {
	case n < 0:
		return "−" + strconv.Itoa(-n)
	case n > 0:
		return "+" + strconv.Itoa(n)
	}
	return "±0"
}

// fixTo is the version an upgrade goes to, or what a direct dependency's
// bump must bring: "qs ≥ 6.7.3".
func fixTo(f report.Fix) string {
	if f.FixedVersion != "" {
		return f.FixedVersion
	}
	var parts []string
	for _, pkg := range f.Vulnerable {
		if pkg.FixedVersion != "" {
			parts = append(parts, pkg.Name+" ≥ "+pkg.FixedVersion)
		}
	}
	return strings.Join(parts, ", ")
}

// removes is "2 (1 CRITICAL, 1 HIGH)", and the unfixed findings left.
func removes(f report.Fix) string {
	var parts []string
	for _, s := range match.Severities() {
		if n := f.Severities[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	out := fmt.Sprintf("%d (%s)", len(f.Findings), strings.Join(parts, ", "))
	if f.Unfixed > 0 {
		out += fmt.Sprintf("; %d unfixed left", f.Unfixed)
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// highestRisk lists the findings of highest risk across every target, so
// that the table starts with what matters most.
func (p *printer) highestRisk(r *report.Report) {
	type located struct {
		target string
		f      match.Finding
	}
	var all []located
	for _, res := range r.Results {
		for _, f := range res.Vulnerabilities {
			if f.Suppressed == nil {
				all = append(all, located{res.Target, f})
			}
		}
	}
	slices.SortStableFunc(all, func(a, b located) int { return match.CompareRisk(&a.f, &b.f) })
	n := min(topRisks, len(all))
	p.printf("%s\n", p.paint(ansiBold, fmt.Sprintf("Highest risk (%d of %d findings)", n, len(all))))
	t := rows{header: []string{"LIBRARY", "VULNERABILITY", "RISK", "SEVERITY", "KEV", "EPSS", "FIXED", "TARGET"}}
	colors := make([][]string, 0, n)
	for _, x := range all[:n] {
		sev := normSeverity(x.f.Severity)
		where := x.target
		if x.f.Layer.Base {
			where += " (base image)"
		}
		t.cells = append(t.cells, []string{x.f.PkgName, x.f.ID, riskCell(&x.f), sev, kevCell(&x.f), epssCell(&x.f), x.f.FixedVersion, where})
		colors = append(colors, []string{"", "", "", severityColor(sev), ansiBRed, "", "", ""})
	}
	p.table(t, colors)
	p.printf("\n")
}

// footer says that the scan was incomplete, and why.
func (p *printer) footer(ws []inventory.Warning, after bool) {
	if len(ws) == 0 {
		return
	}
	if after {
		p.printf("\n")
	}
	head := fmt.Sprintf("Scan incomplete: %d warnings; vulnerabilities may be missing from this report", len(ws))
	if len(ws) == 1 {
		head = "Scan incomplete: 1 warning; vulnerabilities may be missing from this report"
	}
	p.printf("%s\n", p.paint(ansiYellow, head))
	for i, w := range ws {
		if i == maxWarnings {
			p.printf("  … and %d more (see --format json)\n", len(ws)-maxWarnings)
			break
		}
		p.printf("  - %s\n", w)
	}
}

// eoslNote is the end-of-support warning shown under the OS target.
func eoslNote(os *inventory.OS, class string) string {
	if os == nil || !os.EOSL || class != inventory.ClassOSPkgs {
		return ""
	}
	name := strings.TrimSpace(os.Family + " " + os.Name)
	if os.EOSLDate != "" {
		return fmt.Sprintf("%s is past its end of support (%s): no more security fixes", name, os.EOSLDate)
	}
	return fmt.Sprintf("%s is past its end of support: no more security fixes", name)
}

// splitSuppressed returns the findings to show, sorted for display in the
// named order, and how many were suppressed.
func splitSuppressed(fs []match.Finding, order string) ([]match.Finding, int) {
	shown := make([]match.Finding, 0, len(fs))
	for _, f := range fs {
		if f.Suppressed == nil {
			shown = append(shown, f)
		}
	}
	report.SortFindings(shown, order)
	return shown, len(fs) - len(shown)
}

func (p *printer) severityCounts(fs []match.Finding) string {
	counts := map[string]int{}
	for _, f := range fs {
		counts[normSeverity(f.Severity)]++
	}
	parts := make([]string, 0, 5)
	for _, s := range match.Severities() {
		label := s
		if counts[s] > 0 {
			label = p.paint(severityColor(s), s)
		}
		parts = append(parts, fmt.Sprintf("%s: %d", label, counts[s]))
	}
	return strings.Join(parts, ", ")
}

func normSeverity(s string) string {
	if match.SeverityRank(s) == 0 {
		return match.SeverityUnknown
	}
	return s
}

func severityColor(s string) string {
	switch s {
	case match.SeverityCritical:
		return ansiBRed
	case match.SeverityHigh:
		return ansiRed
	case match.SeverityMedium:
		return ansiYellow
	case match.SeverityLow:
		return ansiBlue
	}
	return ""
}

// rows is a table: a header and cells, with an optional colour per cell.
type rows struct {
	header []string
	cells  [][]string
}

func packageRows(pkgs []inventory.Package) rows {
	t := rows{header: []string{"NAME", "VERSION", "SOURCE", "ARCH", "PATH", "LAYER"}}
	for _, pkg := range pkgs {
		src := pkg.SourceName
		if pkg.SourceVersion != "" && pkg.SourceVersion != pkg.Version {
			src += " " + pkg.SourceVersion
		}
		if pkg.SourceName == pkg.Name && (pkg.SourceVersion == "" || pkg.SourceVersion == pkg.Version) {
			src = ""
		}
		layer := shortDigest(pkg.Layer)
		if pkg.Layer.Base {
			layer += " (base)"
		}
		t.cells = append(t.cells, []string{pkg.Name, pkg.Version, src, pkg.Arch, pkg.FilePath, layer})
	}
	return t
}

func findingRows(fs []match.Finding) (rows, [][]string) {
	t := rows{header: []string{"LIBRARY", "VULNERABILITY", "RISK", "SEVERITY", "KEV", "EPSS", "STATUS", "INSTALLED", "FIXED", "TITLE"}}
	colors := make([][]string, 0, len(fs))
	for _, f := range fs {
		sev := normSeverity(f.Severity)
		status := string(f.Status)
		if f.Reachability != "" {
			status += " (" + f.Reachability + ")"
		}
		title := f.Title
		if title == "" {
			title = f.Description
		}
		title = truncate(title, maxTitle)
		if f.PrimaryURL != "" {
			title = strings.TrimSpace(title + " " + f.PrimaryURL)
		}
		t.cells = append(t.cells, []string{f.PkgName, f.ID, riskCell(&f), sev, kevCell(&f), epssCell(&f), status, f.InstalledVersion, f.FixedVersion, title})
		colors = append(colors, []string{"", "", "", severityColor(sev), ansiBRed, "", "", "", "", ""})
	}
	return t, colors
}

// riskCell is the risk score with one decimal, or "" when the finding has
// none (a report from an older vigil).
func riskCell(f *match.Finding) string {
	if len(f.Risk.Reasons) == 0 {
		return ""
	}
	return strconv.FormatFloat(f.Risk.Score, 'f', 1, 64)
}

// kevCell is "yes" for a known-exploited vulnerability, "ransomware" when
// it is known to be used in ransomware campaigns.
func kevCell(f *match.Finding) string {
	switch {
	case f.KEV == nil:
		return ""
	case strings.EqualFold(f.KEV.KnownRansomwareCampaignUse, "Known"):
		return "ransomware"
	}
	return "yes"
}

// epssCell is the EPSS probability as a percentage, three significant
// digits: "10.4%", "0.042%".
func epssCell(f *match.Finding) string {
	if f.EPSS == nil {
		return ""
	}
	return strconv.FormatFloat(f.EPSS.Score*100, 'g', 3, 64) + "%"
}

// shortDigest is the first 12 hex digits of the layer's digest (its diffID
// when the blob digest is unknown).
func shortDigest(l inventory.LayerRef) string {
	d := cmp.Or(l.Digest, l.DiffID)
	if _, hex, ok := strings.Cut(d, ":"); ok {
		d = hex
	}
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}

// truncate shortens s to at most n runes, on one line, ending with "…" when
// cut.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// table writes t with columns aligned, dropping columns that are empty in
// every row. colors, when not nil, holds an SGR code per cell.
func (p *printer) table(t rows, colors [][]string) {
	keep := make([]bool, len(t.header))
	width := make([]int, len(t.header))
	for c, h := range t.header {
		width[c] = utf8.RuneCountInString(h)
	}
	for _, row := range t.cells {
		for c, cell := range row {
			if cell != "" {
				keep[c] = true
			}
			width[c] = max(width[c], utf8.RuneCountInString(cell))
		}
	}
	line := func(cells []string, codes []string, bold bool) {
		var b strings.Builder
		last := -1
		for c := range cells {
			if keep[c] {
				last = c
			}
		}
		first := true
		for c, cell := range cells {
			if !keep[c] {
				continue
			}
			if !first {
				b.WriteString("  ")
			}
			first = false
			pad := ""
			if c != last {
				pad = strings.Repeat(" ", width[c]-utf8.RuneCountInString(cell))
			}
			code := ""
			if bold {
				code = ansiBold
			} else if codes != nil {
				code = codes[c]
			}
			b.WriteString(p.paint(code, cell))
			b.WriteString(pad)
		}
		p.printf("%s\n", strings.TrimRight(b.String(), " "))
	}
	line(t.header, nil, true)
	rule := make([]string, len(t.header))
	for c := range rule {
		rule[c] = strings.Repeat("-", width[c])
	}
	line(rule, nil, false)
	for i, row := range t.cells {
		var codes []string
		if colors != nil {
			codes = colors[i]
		}
		line(row, codes, false)
	}
}

func artifactName(a inventory.Artifact) string {
	if a.Name == "" {
		return "the scan target"
	}
	return a.Name
}
