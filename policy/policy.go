// Package policy decides which findings a report keeps and whether the scan
// fails: severity and status filters, ignore files, VEX statements, a
// baseline of known findings, and the exit codes of the CI gate.
package policy

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
)

// Options are the policy flags of a scan.
type Options struct {
	// Filter says which findings count; the others are removed from the
	// report.
	Filter Filter
	// IgnoreFile is the ignore file; IgnoreFileOptional says a missing one
	// is fine (the default .vigilignore).
	IgnoreFile         string
	IgnoreFileOptional bool
	// VEX are OpenVEX or CycloneDX VEX documents.
	VEX []string
	// Baseline is an earlier JSON report: only findings absent from it are
	// kept.
	Baseline string
	// ExitCode is returned when a finding survives; 0 never fails.
	ExitCode int
	// ExitOnEOL is returned when the OS is past its end of support.
	ExitOnEOL int
	// Now is the time expiries are checked against; zero means time.Now.
	Now time.Time
}

// Policy is a loaded set of options.
type Policy struct {
	opts     Options
	ignores  []IgnoreRule
	vex      []VEXStatement
	baseline map[baselineKey]bool
}

type baselineKey struct{ target, pkg, version, id string }

// Load checks opts.Filter (see Filter.Validate) and reads the ignore
// file, VEX documents and baseline opts name.
func Load(opts Options) (*Policy, error) {
	if err := opts.Filter.Validate(); err != nil {
		return nil, err
	}
	p := &Policy{opts: opts}
	if p.opts.Now.IsZero() {
		p.opts.Now = time.Now()
	}
	if opts.IgnoreFile != "" {
		rules, err := LoadIgnoreFile(opts.IgnoreFile, opts.IgnoreFileOptional)
		if err != nil {
			return nil, err
		}
		p.ignores = rules
	}
	for _, name := range opts.VEX {
		sts, err := LoadVEX(name)
		if err != nil {
			return nil, err
		}
		p.vex = append(p.vex, sts...)
	}
	if opts.Baseline != "" {
		f, err := os.Open(opts.Baseline)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		defer f.Close()
		base, err := report.ReadJSON(f)
		if err != nil {
			return nil, fmt.Errorf("baseline %s: %w", opts.Baseline, err)
		}
		p.baseline = map[baselineKey]bool{}
		for _, r := range base.Results {
			for _, v := range r.Vulnerabilities {
				p.baseline[keyOf(r.Target, &v)] = true
			}
		}
	}
	return p, nil
}

// keyOf identifies a finding across scans of the same artifact: the
// target, the package and its installed version, and the vulnerability. A
// package upgraded to another still-vulnerable version is a new finding.
func keyOf(target string, f *match.Finding) baselineKey {
	return baselineKey{target: target, pkg: f.PkgName, version: f.InstalledVersion, id: f.ID}
}

// Outcome is what applying a policy decided.
type Outcome struct {
	// ExitCode is the code the scan exits with (0 when the gate passes).
	ExitCode int
	// Notes tell a person about the policy itself: expired ignore entries,
	// how many findings the baseline hid.
	Notes []string
}

// Apply filters r's findings in place and returns the gate's outcome.
// Filtered findings (Options.Filter, baseline) are removed;
// findings suppressed by an ignore rule or a VEX statement stay in the
// report with Suppressed set and do not trip the gate.
func (p *Policy) Apply(r *report.Report) Outcome {
	var out Outcome
	expired := map[string]bool{}
	baselined := 0
	live := 0
	for i := range r.Results {
		res := &r.Results[i]
		kept := res.Vulnerabilities[:0]
		for _, f := range res.Vulnerabilities {
			if !p.opts.Filter.Keep(&f) {
				continue
			}
			if p.baseline != nil && p.baseline[keyOf(res.Target, &f)] {
				baselined++
				continue
			}
			f.Suppressed = p.suppression(&f, res.Target, expired)
			if f.Suppressed == nil {
				live++
			}
			kept = append(kept, f)
		}
		res.Vulnerabilities = slices.Clip(kept)
	}
	for _, where := range slices.Sorted(maps.Keys(expired)) {
		out.Notes = append(out.Notes, fmt.Sprintf("ignore rule %s has expired and no longer applies", where))
	}
	if p.opts.Filter.ExcludeBase && (r.Artifact.Base == nil || r.Artifact.Base.Layers == 0) && r.Artifact.Type == inventory.TypeContainerImage {
		out.Notes = append(out.Notes, "--exclude-base: no base image layers were identified, so every finding counts as the image's own")
	}
	if baselined > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d findings already present in the baseline %s are not reported", baselined, p.opts.Baseline))
	}
	if live > 0 && p.opts.ExitCode != 0 {
		out.ExitCode = p.opts.ExitCode
	}
	if out.ExitCode == 0 && p.opts.ExitOnEOL != 0 && r.Artifact.OS != nil && r.Artifact.OS.EOSL {
		out.ExitCode = p.opts.ExitOnEOL
	}
	return out
}

func (p *Policy) suppression(f *match.Finding, target string, expired map[string]bool) *match.Suppression {
	for _, rule := range p.ignores {
		if !rule.Matches(f, target) {
			continue
		}
		if rule.Expired(p.opts.Now) {
			expired[rule.Where] = true
			continue
		}
		return &match.Suppression{Kind: match.SuppressedByIgnoreFile, Source: p.opts.IgnoreFile, Statement: rule.Where, Reason: rule.Statement}
	}
	for _, s := range p.vex {
		if s.Suppresses(f) {
			return &match.Suppression{Kind: match.SuppressedByVEX, Source: s.Source, Statement: s.Ref, Status: s.Status, Justification: s.Justification, Reason: s.Reason}
		}
	}
	return nil
}
