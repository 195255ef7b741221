package sarif

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/reporttest"
)

func TestWriteGolden(t *testing.T) {
	for name, r := range reporttest.Samples() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, r, report.Options{AppVersion: "1.0.0"}); err != nil {
				t.Fatal(err)
			}
			reporttest.Golden(t, filepath.Join("testdata", name+".sarif"), buf.Bytes())
			validate(t, buf.Bytes())
		})
	}
}

// validate checks the constraints of the SARIF 2.1.0 schema and of GitHub's
// code scanning upload that vigil's output must meet: required properties,
// enumerations, rule references, and relative artifact URIs.
func validate(t *testing.T, data []byte) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["version"] != "2.1.0" {
		t.Errorf("version = %v", doc["version"])
	}
	runs, _ := doc["runs"].([]any)
	if len(runs) != 1 {
		t.Fatalf("runs = %v", doc["runs"])
	}
	run := runs[0].(map[string]any)
	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	if driver["name"] != "vigil" {
		t.Errorf("driver name = %v", driver["name"])
	}
	rules, _ := driver["rules"].([]any)
	var ruleIDs []string
	for _, r := range rules {
		rule := r.(map[string]any)
		id, _ := rule["id"].(string)
		if id == "" || slices.Contains(ruleIDs, id) {
			t.Errorf("rule id %q empty or repeated", id)
		}
		ruleIDs = append(ruleIDs, id)
		props := rule["properties"].(map[string]any)
		if s, _ := props["security-severity"].(string); s == "" {
			t.Errorf("rule %s has no security-severity", id)
		}
		if rule["shortDescription"].(map[string]any)["text"] == "" {
			t.Errorf("rule %s has no short description", id)
		}
	}
	invs, _ := run["invocations"].([]any)
	if len(invs) != 1 {
		t.Fatalf("invocations = %v, want one", run["invocations"])
	}
	inv := invs[0].(map[string]any)
	ok, isBool := inv["executionSuccessful"].(bool)
	if !isBool {
		t.Errorf("executionSuccessful = %v, want a boolean", inv["executionSuccessful"])
	}
	notes, _ := inv["toolExecutionNotifications"].([]any)
	if ok != (len(notes) == 0) {
		t.Errorf("executionSuccessful %v with %d notifications", ok, len(notes))
	}
	for _, x := range notes {
		n := x.(map[string]any)
		if !slices.Contains([]string{"none", "note", "warning", "error"}, n["level"].(string)) {
			t.Errorf("notification level %v", n["level"])
		}
		if text, _ := n["message"].(map[string]any)["text"].(string); text == "" {
			t.Errorf("notification without a message")
		}
		locs, _ := n["locations"].([]any)
		for _, l := range locs {
			pl := l.(map[string]any)["physicalLocation"].(map[string]any)
			if uri := pl["artifactLocation"].(map[string]any)["uri"].(string); uri == "" || strings.HasPrefix(uri, "/") {
				t.Errorf("notification uri %q is not a relative reference", uri)
			}
			if _, ok := pl["region"]; ok {
				t.Errorf("notification has a region")
			}
		}
	}
	results, ok := run["results"].([]any)
	if !ok {
		t.Fatal("results missing (an empty run must still have results: [])")
	}
	for _, x := range results {
		res := x.(map[string]any)
		id := res["ruleId"].(string)
		idx := int(res["ruleIndex"].(float64))
		if idx >= len(ruleIDs) || ruleIDs[idx] != id {
			t.Errorf("result %s points at rule %d", id, idx)
		}
		if !slices.Contains([]string{"none", "note", "warning", "error"}, res["level"].(string)) {
			t.Errorf("result %s level %v", id, res["level"])
		}
		if res["message"].(map[string]any)["text"] == "" {
			t.Errorf("result %s has no message", id)
		}
		if rank, ok := res["rank"]; ok {
			if x, _ := rank.(float64); x < 0 || x > 100 {
				t.Errorf("result %s rank %v out of 0..100", id, rank)
			}
		}
		for _, l := range res["locations"].([]any) {
			uri := l.(map[string]any)["physicalLocation"].(map[string]any)["artifactLocation"].(map[string]any)["uri"].(string)
			if uri == "" || strings.HasPrefix(uri, "/") || strings.Contains(uri, "://") {
				t.Errorf("result %s uri %q is not a relative reference", id, uri)
			}
		}
		if sup, ok := res["suppressions"].([]any); ok {
			for _, s := range sup {
				if k := s.(map[string]any)["kind"]; k != "external" && k != "inSource" {
					t.Errorf("suppression kind %v", k)
				}
			}
		}
	}
}

func TestLevelsAndSeverity(t *testing.T) {
	log := Build(reporttest.Alpine(), report.Options{})
	if len(log.Runs[0].Results) == 0 {
		t.Fatal("no results")
	}
	levels := map[string]string{}
	for _, r := range log.Runs[0].Results {
		levels[r.RuleID] = r.Level
	}
	for _, rule := range log.Runs[0].Tool.Driver.Rules {
		want := map[string]string{"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note", "UNKNOWN": "note"}[rule.Properties.Tags[2]]
		if rule.DefaultConfiguration.Level != want || levels[rule.ID] != want {
			t.Errorf("rule %s (%s): level %s/%s, want %s", rule.ID, rule.Properties.Tags[2], rule.DefaultConfiguration.Level, levels[rule.ID], want)
		}
	}
}

// TestIncomplete checks that an incomplete scan is a failed execution with
// one notification per warning, and a complete one a successful execution.
func TestIncomplete(t *testing.T) {
	log := Build(reporttest.Alpine(), report.Options{})
	inv := log.Runs[0].Invocations[0]
	if inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 2 {
		t.Fatalf("invocation = %+v, want a failed one with 2 notifications", inv)
	}
	n := inv.ToolExecutionNotifications[0]
	if n.Level != "error" || !strings.HasPrefix(n.Message.Text, "Scan incomplete: node: malformed lockfile") ||
		n.Locations[0].PhysicalLocation.ArtifactLocation.URI != "app/yarn.lock" || n.Properties["layer"] == "" {
		t.Errorf("notification = %+v", n)
	}
	if n := inv.ToolExecutionNotifications[1]; n.Locations != nil || n.Properties != nil {
		t.Errorf("a warning without path or layer: notification = %+v", n)
	}
	if inv := Build(reporttest.Debian(), report.Options{}).Runs[0].Invocations[0]; !inv.ExecutionSuccessful || inv.ToolExecutionNotifications != nil {
		t.Errorf("complete scan: invocation = %+v", inv)
	}
}

// TestSecuritySeverity: GitHub's security-severity agrees with the
// severity vigil shows (the distribution's rating first), not with the
// highest score of any source, and a rule takes the most severe of its
// findings.
func TestSecuritySeverity(t *testing.T) {
	debianLow := match.Finding{ID: "CVE-1", Severity: match.SeverityLow, SeveritySource: "debian",
		CVSS: map[string]match.CVSS{"nvd": {V3Score: 9.8}}}
	nvdHigh := match.Finding{ID: "CVE-1", Severity: match.SeverityHigh, SeveritySource: "nvd",
		CVSS: map[string]match.CVSS{"nvd": {V3Score: 9.8}}} // held in HIGH's band
	for _, tc := range []struct {
		f    match.Finding
		want string
	}{
		{debianLow, "2.0"},
		{nvdHigh, "8.9"},
		{match.Finding{Severity: match.SeverityCritical, SeveritySource: "ghsa", CVSS: map[string]match.CVSS{"ghsa": {V40Score: 9.3}}}, "9.3"},
		{match.Finding{Severity: match.SeverityUnknown}, "0.0"},
	} {
		if got := securitySeverity(&tc.f); got != tc.want {
			t.Errorf("securitySeverity(%s from %s) = %s, want %s", tc.f.Severity, tc.f.SeveritySource, got, tc.want)
		}
	}
	r := &report.Report{Results: []report.Result{
		{Target: "a", Class: inventory.ClassOSPkgs, Vulnerabilities: []match.Finding{debianLow}},
		{Target: "b", Class: inventory.ClassLangPkgs, Vulnerabilities: []match.Finding{nvdHigh}},
	}}
	rules := Build(r, report.Options{}).Runs[0].Tool.Driver.Rules
	if len(rules) != 1 || rules[0].Properties.SecuritySeverity != "8.9" || rules[0].DefaultConfiguration.Level != "error" {
		t.Errorf("rules = %+v, want one, HIGH's", rules)
	}
}

// TestRiskProperties: each result carries the finding's risk score as its
// rank and, in its properties, the risk with its reasons, KEV and EPSS as
// the JSON report writes them.
func TestRiskProperties(t *testing.T) {
	r := reporttest.Alpine()
	var buf bytes.Buffer
	if err := Write(&buf, r, report.Options{}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID     string   `json:"ruleId"`
				Rank       *float64 `json:"rank"`
				Properties struct {
					Risk *struct {
						Score   float64 `json:"score"`
						Reasons []struct {
							Factor string  `json:"factor"`
							Points float64 `json:"points"`
							Detail string  `json:"detail"`
						} `json:"reasons"`
					} `json:"risk"`
					KEV  *struct{ DateAdded string }          `json:"kev"`
					EPSS *struct{ Score, Percentile float64 } `json:"epss"`
				} `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	var want []match.Finding
	for _, res := range r.Results {
		want = append(want, res.Vulnerabilities...)
	}
	got := log.Runs[0].Results
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	kev, epss := 0, 0
	for i, g := range got {
		f := want[i]
		if g.Rank == nil || *g.Rank != f.Risk.Score || g.Properties.Risk == nil || g.Properties.Risk.Score != f.Risk.Score ||
			len(g.Properties.Risk.Reasons) != len(f.Risk.Reasons) || g.Properties.Risk.Reasons[0].Detail != f.Risk.Reasons[0].Detail {
			t.Errorf("%s: rank %v, risk %+v; want %+v", g.RuleID, g.Rank, g.Properties.Risk, f.Risk)
		}
		if (g.Properties.KEV != nil) != (f.KEV != nil) || (g.Properties.EPSS != nil) != (f.EPSS != nil) {
			t.Errorf("%s: kev %v, epss %v; want %v, %v", g.RuleID, g.Properties.KEV, g.Properties.EPSS, f.KEV, f.EPSS)
		}
		if f.KEV != nil && g.Properties.KEV != nil {
			kev++
			if g.Properties.KEV.DateAdded != f.KEV.DateAdded {
				t.Errorf("%s: kev %+v", g.RuleID, g.Properties.KEV)
			}
		}
		if f.EPSS != nil && g.Properties.EPSS != nil {
			epss++
			if g.Properties.EPSS.Score != f.EPSS.Score || g.Properties.EPSS.Percentile != f.EPSS.Percentile {
				t.Errorf("%s: epss %+v", g.RuleID, g.Properties.EPSS)
			}
		}
	}
	if kev == 0 || epss == 0 {
		t.Error("the sample has no KEV or no EPSS finding to check")
	}
	// A report without risk (an older vigil's) has no rank.
	for i := range r.Results {
		for j := range r.Results[i].Vulnerabilities {
			r.Results[i].Vulnerabilities[j].Risk = match.Risk{}
		}
	}
	for _, res := range Build(r, report.Options{}).Runs[0].Results {
		if res.Rank != nil || res.Properties != nil && res.Properties.Risk != nil {
			t.Errorf("%s: rank %v without a risk", res.RuleID, res.Rank)
		}
	}
}
