// Package azurelinux loads Microsoft's OVAL feeds for Azure Linux and its
// predecessor CBL-Mariner from the AzureLinuxVulnerabilityData repository
// (https://github.com/microsoft/AzureLinuxVulnerabilityData), read as raw
// files: <base>/azurelinux-3.0-oval.xml for the source "azurelinux" and
// <base>/cbl-mariner-{1.0,2.0}-oval.xml for "cbl-mariner", base
// https://raw.githubusercontent.com/microsoft/AzureLinuxVulnerabilityData/main.
// The release comes from the file name; a release file missing from a
// mirror is a warning, all of them missing an error.
//
// Each definition describes one CVE for one source package. Its criteria
// refer to rpminfo tests whose object names the package and whose state
// compares the EVR; those are resolved (the criteria comments leave out
// the ".cm2"/".azl3" dist tag, so they cannot be used for versions). The
// definitions are kept in a compact form while the document streams past,
// then resolved once the states have been read. Per definition vigil puts
// one Affected (VulnID = the CVE, ecosystem "azurelinux:3.0" or
// "cbl-mariner:2.0", scheme rpm) and a Vulnerability carrying only the
// Microsoft severity and the reference, so the CVE's own text and dates
// come from the CVE feeds.
//
// Status mapping:
//   - a "less than" state: fixed at that EVR (range {introduced, fixed});
//   - "less than or equal" only (<patchable>false</patchable>, "No patch is
//     available currently"): affected, range {introduced, last_affected};
//   - <patchable>Not Applicable</patchable> ("This CVE either no longer is
//     or was never applicable"): not_affected, no range;
//   - "greater than [or equal]" states give the range's introduced version
//     (default "0"; a strict "greater than" is taken as inclusive, which
//     only differs at that exact build).
//
// Severity: <severity> Critical, High, Medium, Low → CRITICAL, HIGH,
// MEDIUM, LOW; anything else UNKNOWN.
package azurelinux

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/version/rpm"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/oval"
)

// DefaultBase is the raw-file root of Microsoft's data repository.
const DefaultBase = "https://raw.githubusercontent.com/microsoft/AzureLinuxVulnerabilityData/main"

const maxDocument = 2 << 30 // bound on one OVAL file

// Options configure the source.
type Options struct {
	// Logger receives warnings; nil means slog.Default.
	Logger *slog.Logger
}

// Source is one distribution's OVAL files.
type Source struct {
	name     string   // "azurelinux" or "cbl-mariner"
	releases []string // "3.0", …
	logger   *slog.Logger
}

// New returns the source "azurelinux" (Azure Linux 3.0) configured by
// opts.
func New(opts Options) *Source {
	return &Source{name: "azurelinux", releases: []string{"3.0"}, logger: opts.Logger}
}

// NewMariner returns the source "cbl-mariner" (CBL-Mariner 1.0 and 2.0)
// configured by opts.
func NewMariner(opts Options) *Source {
	return &Source{name: "cbl-mariner", releases: []string{"1.0", "2.0"}, logger: opts.Logger}
}

// Name implements vulndb.Source.
func (s *Source) Name() string { return s.name }

// DefaultBase implements vulndb.Source.
func (s *Source) DefaultBase() string { return DefaultBase }

func (s *Source) log() *slog.Logger {
	if s.logger == nil {
		return slog.Default()
	}
	return s.logger
}

// file is the OVAL file of one release.
func (s *Source) file(release string) string {
	return s.name + "-" + release + "-oval.xml"
}

// Load implements vulndb.Source.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	loaded := 0
	for _, rel := range s.releases {
		name := s.file(rel)
		r, err := f.Open(ctx, name)
		if errors.Is(err, fs.ErrNotExist) {
			s.log().Warn(s.name+": release file missing, skipped", "file", name)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		err = s.parse(ctx, r, rel, sink)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %s: %w", s.name, name, err)
		}
		loaded++
	}
	if loaded == 0 {
		return fmt.Errorf("%s: none of the release files exist: %w", s.name, fs.ErrNotExist)
	}
	return nil
}

// definition is the part of an OVAL definition kept until the states
// have been read.
type definition struct {
	id, cve, severity, patchable, refURL string
	testRefs                             []string
}

// document is one file's definitions and the rpminfo parts they refer to.
type document struct {
	defs    []definition
	tests   map[string][2]string // test id → object ref, state ref
	objects map[string]string    // object id → package name
	states  map[string]evrState  // state id → evr comparison
}

type evrState struct{ op, evr string }

// parse reads one release's OVAL document.
func (s *Source) parse(ctx context.Context, r io.Reader, release string, sink vulndb.Sink) error {
	doc := &document{tests: map[string][2]string{}, objects: map[string]string{}, states: map[string]evrState{}}
	lr := &io.LimitedReader{R: r, N: maxDocument + 1}
	err := oval.Decode(ctx, lr, oval.Handler{
		Definition: func(d *oval.Definition) error {
			doc.defs = append(doc.defs, compact(d))
			return nil
		},
		Test: func(t *oval.Test) error {
			doc.tests[t.ID] = [2]string{t.Object.Ref, t.State.Ref}
			return nil
		},
		Object: func(o *oval.Object) error {
			doc.objects[o.ID] = strings.TrimSpace(o.Name)
			return nil
		},
		State: func(st *oval.State) error {
			if st.EVR != nil {
				doc.states[st.ID] = evrState{op: strings.ToLower(strings.TrimSpace(st.EVR.Operation)), evr: strings.TrimSpace(st.EVR.Value)}
			}
			return nil
		},
	})
	if lr.N <= 0 {
		return fmt.Errorf("document is larger than %d bytes", int64(maxDocument))
	}
	if err != nil {
		return err
	}
	if len(doc.defs) == 0 {
		return errors.New("no definitions in the document")
	}
	eco := s.name + ":" + release
	var kept, skipped int
	for i := range doc.defs {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := &doc.defs[i]
		recs, err := s.convert(d, doc, eco)
		if err != nil {
			skipped++
			s.log().Warn(s.name+": skipping malformed definition", "definition", d.id, "cve", d.cve, "err", err)
			continue
		}
		v := vulndb.Vulnerability{ID: d.cve, Sources: []string{s.name}}
		if d.severity != "" {
			v.Severities = []vulndb.Severity{{Source: s.name, Severity: d.severity}}
		}
		if d.refURL != "" {
			v.References = []string{d.refURL}
		}
		if err := sink.PutVulnerability(ctx, v); err != nil {
			return fmt.Errorf("%s: %w", d.cve, err)
		}
		for _, a := range recs {
			if err := sink.PutAffected(ctx, a); err != nil {
				return fmt.Errorf("%s: %w", d.cve, err)
			}
		}
		kept++
	}
	s.log().Debug(s.name+": loaded", "ecosystem", eco, "definitions", kept, "skipped", skipped)
	return nil
}

func compact(d *oval.Definition) definition {
	c := definition{
		id:        d.ID,
		severity:  severity(d.Metadata.Severity),
		patchable: strings.ToLower(strings.TrimSpace(d.Metadata.Patchable)),
	}
	for _, ref := range d.Metadata.References {
		if strings.EqualFold(ref.Source, "CVE") && ref.RefID != "" {
			c.cve, c.refURL = strings.TrimSpace(ref.RefID), ref.RefURL
			break
		}
	}
	if c.cve == "" {
		// "CVE-2024-24258 affecting package freeglut …"
		if f := strings.Fields(d.Metadata.Title); len(f) > 0 && strings.HasPrefix(f[0], "CVE-") {
			c.cve = f[0]
		}
	}
	var walk func(*oval.Criteria)
	walk = func(cr *oval.Criteria) {
		for _, x := range cr.Criterion {
			if !x.Negate && x.TestRef != "" {
				c.testRefs = append(c.testRefs, x.TestRef)
			}
		}
		for i := range cr.Criteria {
			walk(&cr.Criteria[i])
		}
	}
	walk(&d.Criteria)
	return c
}

// bounds are the EVR comparisons found for one package.
type bounds struct {
	introduced          string
	fixed, lastAffected []string
}

// convert resolves a definition's tests into Affected records, one per
// package it tests.
func (s *Source) convert(d *definition, doc *document, eco string) ([]vulndb.Affected, error) {
	if d.cve == "" {
		return nil, errors.New("no CVE reference")
	}
	if len(d.testRefs) == 0 {
		return nil, errors.New("no criteria")
	}
	pkgs := map[string]*bounds{}
	var order []string
	for _, ref := range d.testRefs {
		t, ok := doc.tests[ref]
		if !ok {
			return nil, fmt.Errorf("test %s not found", ref)
		}
		pkg, ok := doc.objects[t[0]]
		if !ok || pkg == "" || strings.ContainsAny(pkg, " \t\n/") {
			return nil, fmt.Errorf("test %s: object %s has no usable package name", ref, t[0])
		}
		st, ok := doc.states[t[1]]
		if !ok {
			return nil, fmt.Errorf("test %s: state %s has no evr", ref, t[1])
		}
		if _, err := rpm.Parse(st.evr); err != nil {
			return nil, fmt.Errorf("test %s: invalid evr %q: %w", ref, st.evr, err)
		}
		b := pkgs[pkg]
		if b == nil {
			b = &bounds{introduced: "0"}
			pkgs[pkg] = b
			order = append(order, pkg)
		}
		evr := strings.TrimPrefix(st.evr, "0:")
		switch st.op {
		case "less than":
			b.fixed = append(b.fixed, evr)
		case "less than or equal":
			b.lastAffected = append(b.lastAffected, evr)
		case "greater than", "greater than or equal":
			b.introduced = evr
		default:
			return nil, fmt.Errorf("test %s: unsupported evr operation %q", ref, st.op)
		}
	}
	var out []vulndb.Affected
	for _, pkg := range order {
		b := pkgs[pkg]
		a := vulndb.Affected{
			VulnID:    d.cve,
			Source:    s.name,
			Ecosystem: eco,
			Package:   pkg,
			Severity:  d.severity,
		}
		switch {
		case d.patchable == "not applicable":
			a.Status = vulndb.StatusNotAffected
		case len(b.fixed) > 0:
			a.Status = vulndb.StatusFixed
			sortEVRs(b.fixed)
			a.Fixed = b.fixed
			for _, f := range b.fixed {
				a.Ranges = append(a.Ranges, rng(b.introduced, vulndb.Event{Fixed: f}))
			}
		case len(b.lastAffected) > 0:
			a.Status = vulndb.StatusAffected
			for _, l := range b.lastAffected {
				a.Ranges = append(a.Ranges, rng(b.introduced, vulndb.Event{LastAffected: l}))
			}
		default:
			return nil, fmt.Errorf("package %s: no upper version bound", pkg)
		}
		out = append(out, a)
	}
	return out, nil
}

func rng(introduced string, end vulndb.Event) vulndb.Range {
	return vulndb.Range{Scheme: vulndb.SchemeRPM, Events: []vulndb.Event{{Introduced: introduced}, end}}
}

func sortEVRs(evrs []string) {
	slices.SortStableFunc(evrs, func(a, b string) int {
		c, _ := rpm.Compare(a, b)
		return c
	})
}

func severity(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return "CRITICAL"
	case "high", "important":
		return "HIGH"
	case "medium", "moderate":
		return "MEDIUM"
	case "low":
		return "LOW"
	case "":
		return ""
	}
	return "UNKNOWN"
}
