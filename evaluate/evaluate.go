// Package evaluate is the one step every way of scanning ends with:
// inventory → match → policy → report. The CLI scans, `vigil watch` and
// `vigil server` all call Evaluate, so a rule added to matching or policy
// applies to each of them alike.
package evaluate

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-scanner/vigil/fixplan"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/policy"
	"github.com/vigil-scanner/vigil/report"
)

// Matcher finds the vulnerabilities of an inventory: a *match.Matcher on
// a local database, or a vigil server's (client mode).
type Matcher interface {
	Match(ctx context.Context, inv *inventory.Inventory) (*match.Result, error)
}

// Options say how to evaluate an inventory.
type Options struct {
	// Matcher finds the vulnerabilities; nil means no vulnerability scan
	// (an inventory-only report).
	Matcher Matcher
	// Policy filters the findings and decides the exit code; nil keeps
	// every finding and never fails.
	Policy *policy.Policy
	// CreatedAt is the report's timestamp; zero means now, to the second.
	CreatedAt time.Time
}

// Result is what evaluating one inventory decided.
type Result struct {
	// Report holds the inventory with each result's findings attached.
	Report *report.Report
	// Outcome is the policy's decision (exit code and notes).
	Outcome policy.Outcome
	// Notes are what a person must know about the coverage of the
	// result: the matcher's notes, then the policy's.
	Notes []string
}

// Evaluate matches inv (when opts.Matcher is set), attaches each finding to
// the result whose package it concerns, applies opts.Policy, and plans the
// upgrades that remove the findings left (Report.FixPlan, package
// fixplan). inv is not changed.
func Evaluate(ctx context.Context, inv *inventory.Inventory, opts Options) (*Result, error) {
	rep := report.FromInventory(inv)
	rep.CreatedAt = opts.CreatedAt
	if rep.CreatedAt.IsZero() {
		rep.CreatedAt = time.Now().UTC().Truncate(time.Second)
	}
	out := &Result{Report: rep}
	if opts.Matcher != nil {
		res, err := opts.Matcher.Match(ctx, inv)
		if err != nil {
			return nil, err
		}
		if len(res.Findings) != len(rep.Results) {
			return nil, fmt.Errorf("evaluate: matcher returned findings for %d results, the inventory has %d", len(res.Findings), len(rep.Results))
		}
		for i := range rep.Results {
			rep.Results[i].Vulnerabilities = res.Findings[i]
		}
		// A package the matcher could not compare makes the scan
		// incomplete, as a file the scan could not read does.
		rep.Warnings = append(rep.Warnings, res.Warnings...)
		out.Notes = append(out.Notes, res.Notes...)
	}
	if opts.Policy != nil {
		out.Outcome = opts.Policy.Apply(rep)
		out.Notes = append(out.Notes, out.Outcome.Notes...)
	}
	if opts.Matcher != nil {
		rep.FixPlan = fixplan.Plan(rep)
	}
	return out, nil
}

// Findings returns every finding of r with the target of its result, in
// report order.
func Findings(r *report.Report) []Located {
	var out []Located
	for i := range r.Results {
		res := &r.Results[i]
		for j := range res.Vulnerabilities {
			out = append(out, Located{Target: res.Target, Class: res.Class, Type: res.Type, Finding: &res.Vulnerabilities[j]})
		}
	}
	return out
}

// Located is a finding and the result it belongs to.
type Located struct {
	Target, Class, Type string
	Finding             *match.Finding
}
