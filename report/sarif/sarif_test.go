package sarif

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
