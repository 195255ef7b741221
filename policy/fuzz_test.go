package policy

import (
	"os"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/match"
)

// fuzzFinding is a finding the parsed rules and statements are applied to.
var fuzzFinding = match.Finding{
	ID: "CVE-2021-44906", Aliases: []string{"GHSA-xvch-5gv4-984h"}, PkgName: "minimist",
	PkgPurl: "pkg:npm/minimist@1.2.5", InstalledVersion: "1.2.5",
}

func addSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, b)
	}
}

// FuzzIgnoreFile parses the input as an ignore file (plain, or YAML when
// named .yaml or so led) and applies its rules to a finding.
func FuzzIgnoreFile(f *testing.F) {
	addSeeds(f, "testdata/plain.vigilignore", "testdata/scoped.yaml")
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		rules, err := parseIgnore(name, data)
		if err != nil {
			return
		}
		for _, r := range rules {
			if r.ID == "" {
				t.Fatalf("rule without an id: %+v", r)
			}
			r.Matches(&fuzzFinding, "app/package-lock.json")
			r.Expired(time.Now())
		}
	})
}

// FuzzVEX parses the input as an OpenVEX or CycloneDX VEX document and
// applies its statements to a finding.
func FuzzVEX(f *testing.F) {
	addSeeds(f, "testdata/openvex.json", "testdata/cdx-vex.json")
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		sts, err := parseVEX(name, data)
		if err != nil {
			return
		}
		for _, s := range sts {
			s.Suppresses(&fuzzFinding)
		}
	})
}
