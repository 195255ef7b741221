// Package sarif writes a report as SARIF 2.1.0
// (https://docs.oasis-open.org/sarif/sarif/v2.1.0/), the format GitHub code
// scanning uploads accept: one rule per vulnerability id, one result per
// finding, located at the lockfile (language packages) or the image
// (OS packages). Findings suppressed by an ignore file or VEX carry a SARIF
// suppression, so code scanning shows them as dismissed. The run's one
// invocation says whether the scan was complete: each warning of an
// incomplete scan is an error-level tool execution notification, and
// executionSuccessful is false.
package sarif

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/vulndb"
)

const (
	schemaURI = "https://json.schemastore.org/sarif-2.1.0.json"
	toolURI   = "https://github.com/vigil-scanner/vigil"
)

// Log is the SARIF document (the subset vigil writes).
type Log struct {
	Version string `json:"version"`
	Schema  string `json:"$schema"`
	Runs    []Run  `json:"runs"`
}

// Run is one tool run.
type Run struct {
	Tool               Tool                        `json:"tool"`
	Invocations        []Invocation                `json:"invocations"`
	Results            []Result                    `json:"results"`
	ColumnKind         string                      `json:"columnKind"`
	OriginalURIBaseIDs map[string]ArtifactLocation `json:"originalUriBaseIds"`
	Properties         map[string]any              `json:"properties,omitempty"`
}

// Invocation is the run of vigil that produced the results.
type Invocation struct {
	// ExecutionSuccessful is false when the scan could not read
	// everything it should have: the results may be incomplete.
	ExecutionSuccessful        bool           `json:"executionSuccessful"`
	ToolExecutionNotifications []Notification `json:"toolExecutionNotifications,omitempty"`
}

// Notification is one warning of an incomplete scan.
type Notification struct {
	Level      string            `json:"level"`
	Message    Message           `json:"message"`
	Locations  []Location        `json:"locations,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

// Tool describes vigil and its rules.
type Tool struct {
	Driver Driver `json:"driver"`
}

// Driver is the tool component.
type Driver struct {
	Name           string `json:"name"`
	FullName       string `json:"fullName"`
	Version        string `json:"version,omitempty"`
	InformationURI string `json:"informationUri"`
	Rules          []Rule `json:"rules"`
}

// Rule is one vulnerability id.
type Rule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     Message        `json:"shortDescription"`
	FullDescription      Message        `json:"fullDescription"`
	DefaultConfiguration Configuration  `json:"defaultConfiguration"`
	HelpURI              string         `json:"helpUri,omitempty"`
	Help                 Help           `json:"help"`
	Properties           RuleProperties `json:"properties"`
}

// Configuration is a rule's default level.
type Configuration struct {
	Level string `json:"level"`
}

// Help is a rule's help text.
type Help struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

// RuleProperties carry GitHub's severity and tags.
type RuleProperties struct {
	Precision        string   `json:"precision"`
	SecuritySeverity string   `json:"security-severity"`
	Tags             []string `json:"tags"`
}

// Message is SARIF text.
type Message struct {
	Text string `json:"text"`
}

// Result is one finding.
type Result struct {
	RuleID    string  `json:"ruleId"`
	RuleIndex int     `json:"ruleIndex"`
	Level     string  `json:"level"`
	Message   Message `json:"message"`
	// Rank is the finding's risk score (0–100), the SARIF priority of a
	// result; absent when the finding has none (reports of older vigil
	// versions).
	Rank                *float64          `json:"rank,omitempty"`
	Locations           []Location        `json:"locations"`
	Suppressions        []Suppression     `json:"suppressions,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints,omitempty"`
	Properties          *ResultProperties `json:"properties,omitempty"`
}

// ResultProperties carry what vigil knows of a finding's risk, as the JSON
// report writes it (docs/json-schema.md).
type ResultProperties struct {
	// Risk is the risk score and the reasons that make it up.
	Risk *match.Risk `json:"risk,omitempty"`
	// KEV is the CISA Known Exploited Vulnerabilities entry.
	KEV *vulndb.KEV `json:"kev,omitempty"`
	// EPSS is FIRST's exploit prediction.
	EPSS *vulndb.EPSS `json:"epss,omitempty"`
	// Reachability is "unreachable" for a Go finding none of whose
	// vulnerable symbols is in the binary.
	Reachability string `json:"reachability,omitempty"`
}

// Location is where a finding or a notification is.
type Location struct {
	PhysicalLocation PhysicalLocation `json:"physicalLocation"`
	Message          *Message         `json:"message,omitempty"`
}

// PhysicalLocation is a file and a region in it.
type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           *Region          `json:"region,omitempty"`
}

// ArtifactLocation is a URI, relative to a base.
type ArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

// Region is a text region; vigil points at the first line.
type Region struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine"`
	EndColumn   int `json:"endColumn"`
}

// Suppression marks a dismissed result.
type Suppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

// Write writes r as SARIF to w.
func Write(w io.Writer, r *report.Report, opts report.Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Build(r, opts)); err != nil {
		return fmt.Errorf("writing sarif: %w", err)
	}
	return nil
}

// Build converts r to a SARIF log.
func Build(r *report.Report, opts report.Options) *Log {
	run := Run{
		Tool: Tool{Driver: Driver{
			Name: "vigil", FullName: "vigil container vulnerability scanner",
			Version: opts.AppVersion, InformationURI: toolURI, Rules: []Rule{},
		}},
		Invocations:        []Invocation{invocation(r)},
		Results:            []Result{},
		ColumnKind:         "utf16CodeUnits",
		OriginalURIBaseIDs: map[string]ArtifactLocation{"ROOTPATH": {URI: "file:///"}},
	}
	if r.Artifact.Type == inventory.TypeContainerImage {
		run.Properties = map[string]any{"imageName": r.Artifact.Name, "imageID": r.Artifact.ImageID, "repoDigests": r.Artifact.RepoDigests}
	}
	// A rule describes its vulnerability by the finding with the highest
	// severity score, so that its level and security-severity are those of
	// its most severe result.
	ruleIndex := map[string]int{}
	for _, res := range r.Results {
		for i := range res.Vulnerabilities {
			f := &res.Vulnerabilities[i]
			idx, ok := ruleIndex[f.ID]
			switch {
			case !ok:
				idx = len(run.Tool.Driver.Rules)
				ruleIndex[f.ID] = idx
				run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule(f, res.Class))
			case match.SeverityScore(f) > ruleScore(run.Tool.Driver.Rules[idx]):
				run.Tool.Driver.Rules[idx] = rule(f, res.Class)
			}
			run.Results = append(run.Results, result(r, res, f, idx))
		}
	}
	return &Log{Version: "2.1.0", Schema: schemaURI, Runs: []Run{run}}
}

// invocation says whether the scan was complete, with one error-level
// notification per warning, located at the file concerned when there is
// one; the layer is a property.
func invocation(r *report.Report) Invocation {
	inv := Invocation{ExecutionSuccessful: len(r.Warnings) == 0}
	for _, w := range r.Warnings {
		n := Notification{Level: "error", Message: Message{Text: "Scan incomplete: " + w.Message}}
		if w.Path != "" {
			n.Locations = []Location{{PhysicalLocation: PhysicalLocation{
				ArtifactLocation: ArtifactLocation{URI: strings.TrimPrefix(w.Path, "/"), URIBaseID: "ROOTPATH"},
			}}}
		}
		if w.Layer != "" {
			n.Properties = map[string]string{"layer": w.Layer}
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}
	return inv
}

func rule(f *match.Finding, class string) Rule {
	name := "LanguageSpecificPackageVulnerability"
	if class == inventory.ClassOSPkgs {
		name = "OsPackageVulnerability"
	}
	short := cmp.Or(f.Title, f.ID)
	full := cmp.Or(f.Description, short)
	help := fmt.Sprintf("Vulnerability %s\nSeverity: %s\nPackage: %s\nFixed Version: %s\nLink: %s\n%s",
		f.ID, f.Severity, f.PkgName, f.FixedVersion, f.PrimaryURL, full)
	md := fmt.Sprintf("**Vulnerability %s**\n| Severity | Package | Fixed Version | Link |\n| --- | --- | --- | --- |\n| %s | %s | %s | [%s](%s) |\n\n%s",
		f.ID, f.Severity, f.PkgName, f.FixedVersion, f.ID, f.PrimaryURL, full)
	return Rule{
		ID:                   f.ID,
		Name:                 name,
		ShortDescription:     Message{Text: short},
		FullDescription:      Message{Text: full},
		DefaultConfiguration: Configuration{Level: level(f.Severity)},
		HelpURI:              f.PrimaryURL,
		Help:                 Help{Text: help, Markdown: md},
		Properties: RuleProperties{
			Precision:        "very-high",
			SecuritySeverity: securitySeverity(f),
			Tags:             []string{"vulnerability", "security", f.Severity},
		},
	}
}

func result(r *report.Report, res report.Result, f *match.Finding, idx int) Result {
	uri := location(r, res)
	msg := fmt.Sprintf("Package: %s\nInstalled Version: %s\nVulnerability %s\nSeverity: %s\nFixed Version: %s\nLink: [%s](%s)",
		f.PkgName, f.InstalledVersion, f.ID, f.Severity, f.FixedVersion, f.ID, f.PrimaryURL)
	if f.Layer.DiffID != "" {
		msg += fmt.Sprintf("\nLayer: %s", f.Layer.DiffID)
		if f.Layer.CreatedBy != "" {
			msg += fmt.Sprintf(" (%s)", f.Layer.CreatedBy)
		}
	}
	out := Result{
		RuleID:    f.ID,
		RuleIndex: idx,
		Level:     level(f.Severity),
		Message:   Message{Text: msg},
		Locations: []Location{{
			PhysicalLocation: PhysicalLocation{
				ArtifactLocation: ArtifactLocation{URI: uri, URIBaseID: "ROOTPATH"},
				Region:           &Region{StartLine: 1, StartColumn: 1, EndLine: 1, EndColumn: 1},
			},
			Message: &Message{Text: fmt.Sprintf("%s: %s@%s", uri, f.PkgName, f.InstalledVersion)},
		}},
		PartialFingerprints: map[string]string{"vigil/v1": f.ID + "|" + f.PkgName + "|" + f.InstalledVersion + "|" + res.Target},
	}
	if s := f.Suppressed; s != nil {
		out.Suppressions = []Suppression{{Kind: "external", Status: "accepted", Justification: strings.TrimSpace(s.Kind + ": " + s.Source + " " + s.Statement + " " + cmp.Or(s.Justification, s.Reason))}}
	}
	props := ResultProperties{KEV: f.KEV, EPSS: f.EPSS, Reachability: f.Reachability}
	if len(f.Risk.Reasons) > 0 {
		risk, score := f.Risk, min(max(f.Risk.Score, 0), 100)
		props.Risk, out.Rank = &risk, &score
	}
	if props != (ResultProperties{}) {
		out.Properties = &props
	}
	return out
}

// location is a relative URI for the result: the lockfile of a language
// result, else the image name with its tag or digest separator kept.
func location(r *report.Report, res report.Result) string {
	if res.Class == inventory.ClassLangPkgs && res.Target != "" {
		return strings.TrimPrefix(res.Target, "/")
	}
	return strings.TrimPrefix(cmp.Or(r.Artifact.Name, res.Target), "/")
}

// level maps a severity to a SARIF level.
func level(sev string) string {
	switch sev {
	case match.SeverityCritical, match.SeverityHigh:
		return "error"
	case match.SeverityMedium:
		return "warning"
	}
	return "note"
}

// securitySeverity is GitHub code scanning's numeric severity of a rule,
// "security-severity" in its properties: a score from 0.0 to 10.0 that
// GitHub reads as critical above 9.0, high from 7.0, medium from 4.0, low
// below. It is the CVSS score behind the severity vigil shows
// (match.SeverityScore: the severity source's base score held inside the
// severity's band), so that GitHub's rating agrees with vigil's and with
// the result's level; 0.0 (no security severity) for UNKNOWN.
func securitySeverity(f *match.Finding) string {
	return strconv.FormatFloat(match.SeverityScore(f), 'f', 1, 64)
}

// ruleScore is the severity score a rule was made with.
func ruleScore(r Rule) float64 {
	s, _ := strconv.ParseFloat(r.Properties.SecuritySeverity, 64)
	return s
}
