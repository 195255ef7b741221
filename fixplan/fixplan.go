// Package fixplan groups a report's findings by the upgrade that removes
// them, and orders the upgrades by the risk they remove, so that the first
// is the single change that removes the most.
//
// An upgrade is, for OS packages, the source package (one upgrade of
// openssl fixes libssl3 and openssl); for language packages, the direct
// dependency that brings the vulnerable package when the dependency graph
// says exactly one does, else the vulnerable package itself. Its version is
// the lowest that clears every fixable finding: for each finding the lowest
// fixed version above the installed one (so a fix on the installed
// release line, never an older line), and the highest of those. Versions
// are compared with the package's own scheme (package version), as the
// matcher compares them.
package fixplan

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/version"
)

// Plan returns r's fix plan: one Fix per upgrade that removes at least one
// finding, most risk removed first. Suppressed findings are left out;
// findings of packages the report does not list are grouped by their own
// package.
func Plan(r *report.Report) []report.Fix {
	p := planner{os: r.Artifact.OS, comparers: map[string]version.Comparer{}, groups: map[string]*group{}}
	for i := range r.Results {
		p.result(&r.Results[i])
	}
	var out []report.Fix
	for _, g := range p.groups {
		if fix, ok := g.finish(); ok {
			out = append(out, fix)
		}
	}
	slices.SortFunc(out, func(a, b report.Fix) int {
		return cmp.Or(
			cmp.Compare(b.RiskRemoved, a.RiskRemoved),
			cmp.Compare(len(b.Findings), len(a.Findings)),
			cmp.Compare(a.Target, b.Target),
			cmp.Compare(a.Package, b.Package),
		)
	})
	return out
}

type planner struct {
	os        *inventory.OS
	comparers map[string]version.Comparer
	groups    map[string]*group
}

// group gathers the findings of one upgrade.
type group struct {
	fix  report.Fix
	self bool // the upgrade is of the vulnerable packages themselves
	// pkgs are the vulnerable packages, by "name\x00installed".
	pkgs  map[string]*report.FixedPackage
	order []string
	// risk is the highest risk of each fixable vulnerability id.
	risk     map[string]float64
	severity map[string]string
	unfixed  map[string]bool
	base     bool
}

func (p *planner) comparer(scheme string) version.Comparer {
	if c, ok := p.comparers[scheme]; ok {
		return c
	}
	c, _ := version.For(scheme) // nil for an unknown scheme: nothing compares
	p.comparers[scheme] = c
	return c
}

func (p *planner) result(res *report.Result) {
	inv := &inventory.Result{Target: res.Target, Class: res.Class, Type: res.Type}
	byID := map[string]*inventory.Package{}
	byNameVersion := map[string]*inventory.Package{}
	for i := range res.Packages {
		pkg := &res.Packages[i]
		if pkg.ID != "" {
			byID[pkg.ID] = pkg
		}
		byNameVersion[pkg.Name+"\x00"+pkg.Version] = pkg
	}
	g := newGraph(res.Packages)
	for i := range res.Vulnerabilities {
		f := &res.Vulnerabilities[i]
		if f.Suppressed != nil {
			continue
		}
		pkg := byID[f.PkgID]
		if pkg == nil {
			pkg = byNameVersion[f.PkgName+"\x00"+f.InstalledVersion]
		}
		if pkg == nil {
			pkg = &inventory.Package{ID: f.PkgID, Name: f.PkgName, Version: f.InstalledVersion, Purl: f.PkgPurl, Layer: f.Layer}
		}
		scheme, installed, ok := match.Compared(p.os, inv, pkg)
		if !ok {
			scheme, installed = "", f.InstalledVersion
		}
		c := p.comparer(scheme)
		upgrade, upgradeVersion, via, self := pkg.Name, installed, []string(nil), true
		key := res.Target + "\x00" + res.Class + "\x00"
		if res.Class == inventory.ClassOSPkgs {
			upgrade = cmp.Or(pkg.SourceName, pkg.Name)
			key += upgrade
		} else {
			via = g.directAncestors(pkg)
			if len(via) == 1 {
				d := g.byID[via[0]]
				upgrade, upgradeVersion, self = d.Name, d.Version, false
				key += d.ID
			} else {
				key += cmp.Or(pkg.ID, pkg.Name+"@"+pkg.Version)
			}
		}
		grp := p.groups[key]
		if grp == nil {
			grp = &group{
				fix:  report.Fix{Target: res.Target, Class: res.Class, Package: upgrade, InstalledVersion: upgradeVersion},
				self: self,
				pkgs: map[string]*report.FixedPackage{}, risk: map[string]float64{}, severity: map[string]string{}, unfixed: map[string]bool{},
				base: true,
			}
			p.groups[key] = grp
		}
		grp.add(f, pkg, installed, c, via)
	}
}

// add records finding f of package pkg (compared at version installed).
func (g *group) add(f *match.Finding, pkg *inventory.Package, installed string, c version.Comparer, via []string) {
	k := pkg.Name + "\x00" + pkg.Version
	pf := g.pkgs[k]
	if pf == nil {
		pf = &report.FixedPackage{Name: pkg.Name, InstalledVersion: pkg.Version}
		if len(via) > 1 {
			pf.Via = via
		}
		g.pkgs[k] = pf
		g.order = append(g.order, k)
	}
	g.base = g.base && pkg.Layer.Base
	fixed := lowestFixedAbove(c, installed, f.FixedVersions)
	if fixed == "" {
		g.unfixed[f.ID] = true
		return
	}
	if pf.FixedVersion == "" || greater(c, fixed, pf.FixedVersion) {
		pf.FixedVersion = fixed
	}
	if g.self && (g.fix.FixedVersion == "" || greater(c, fixed, g.fix.FixedVersion)) {
		g.fix.FixedVersion = fixed
	}
	if r, seen := g.risk[f.ID]; !seen || f.Risk.Score > r {
		g.risk[f.ID] = f.Risk.Score
	}
	if match.SeverityRank(f.Severity) > match.SeverityRank(g.severity[f.ID]) || g.severity[f.ID] == "" {
		g.severity[f.ID] = f.Severity
	}
}

// finish returns the group's Fix, or false when it fixes nothing.
func (g *group) finish() (report.Fix, bool) {
	if len(g.risk) == 0 {
		return report.Fix{}, false
	}
	fix := g.fix
	for _, k := range g.order {
		pf := *g.pkgs[k]
		if fix.Class == inventory.ClassOSPkgs {
			// The source package's version says it; a binary's version
			// can differ (binNMU suffixes).
			pf.FixedVersion = ""
		}
		fix.Vulnerable = append(fix.Vulnerable, pf)
	}
	slices.SortFunc(fix.Vulnerable, func(a, b report.FixedPackage) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.InstalledVersion, b.InstalledVersion))
	})
	fix.Severities = map[string]int{}
	sum := 0.0
	for id, r := range g.risk {
		fix.Findings = append(fix.Findings, id)
		sum += r
		fix.Severities[g.severity[id]]++
	}
	fix.RiskRemoved = math.Round(sum*10) / 10
	slices.SortFunc(fix.Findings, func(a, b string) int {
		return cmp.Or(cmp.Compare(g.risk[b], g.risk[a]), strings.Compare(a, b))
	})
	for id := range g.unfixed {
		if _, fixed := g.risk[id]; !fixed {
			fix.Unfixed++
		}
	}
	fix.Base = g.base
	return fix, true
}

// lowestFixedAbove returns the lowest of fixed that is above installed, or
// "" when none is (or the versions cannot be compared).
func lowestFixedAbove(c version.Comparer, installed string, fixed []string) string {
	if c == nil {
		return ""
	}
	best := ""
	for _, v := range fixed {
		if !greater(c, v, installed) {
			continue
		}
		if best == "" || greater(c, best, v) {
			best = v
		}
	}
	return best
}

// greater reports whether a > b; versions c cannot compare are never
// greater.
func greater(c version.Comparer, a, b string) bool {
	if c == nil {
		return false
	}
	r, err := c.Compare(a, b)
	return err == nil && r > 0
}

// graph is a result's dependency graph, when its lockfile records one.
type graph struct {
	byID    map[string]*inventory.Package
	parents map[string][]string
	// known is set when the result says which packages are direct: it
	// has roots (the project itself), or marks indirect packages.
	known bool
	// direct holds the IDs the roots depend on, when there are roots.
	direct map[string]bool
}

func newGraph(pkgs []inventory.Package) graph {
	g := graph{byID: map[string]*inventory.Package{}, parents: map[string][]string{}}
	for i := range pkgs {
		p := &pkgs[i]
		if p.ID != "" {
			g.byID[p.ID] = p
		}
		if p.Indirect || p.Root {
			g.known = true
		}
		if p.Root {
			if g.direct == nil {
				g.direct = map[string]bool{}
			}
			for _, d := range p.DependsOn {
				g.direct[d] = true
			}
		}
	}
	for i := range pkgs {
		if pkgs[i].Root {
			continue // a root's edges make its dependencies direct
		}
		for _, d := range pkgs[i].DependsOn {
			g.parents[d] = append(g.parents[d], pkgs[i].ID)
		}
	}
	return g
}

// isDirect reports whether a package is a direct dependency: one a root
// names, or, without roots, one the lockfile does not mark indirect.
func (g graph) isDirect(p *inventory.Package) bool {
	if g.direct != nil {
		return g.direct[p.ID]
	}
	return !p.Indirect
}

// directAncestors returns the IDs of the direct dependencies that bring
// pkg, sorted, or nil when pkg is direct itself or the graph does not say.
func (g graph) directAncestors(pkg *inventory.Package) []string {
	if !g.known || pkg.ID == "" || g.isDirect(pkg) {
		return nil
	}
	seen := map[string]bool{pkg.ID: true}
	queue := []string{pkg.ID}
	var out []string
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, parent := range g.parents[id] {
			if seen[parent] {
				continue
			}
			seen[parent] = true
			pp := g.byID[parent]
			if pp == nil {
				continue
			}
			if pp.Root {
				continue
			}
			if g.isDirect(pp) {
				out = append(out, parent)
				continue
			}
			queue = append(queue, parent)
		}
	}
	slices.Sort(out)
	return out
}
