package match

import (
	"context"
	"slices"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/epss"
	"github.com/vigil-scanner/vigil/vulndb/source/kev"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func TestRiskOf(t *testing.T) {
	tests := []struct {
		name    string
		f       Finding
		score   float64
		factors []string
	}{
		{
			name:    "unknown severity, nothing else",
			f:       Finding{Severity: SeverityUnknown},
			score:   0,
			factors: []string{FactorSeverity},
		},
		{
			// 3 × 9.8 + 5
			name:    "NVD score of the severity's source",
			f:       Finding{Severity: SeverityCritical, SeveritySource: "nvd", CVSS: map[string]CVSS{"nvd": {V3Score: 9.8}}, FixedVersions: []string{"1.2"}},
			score:   34.4,
			factors: []string{FactorSeverity, FactorFix},
		},
		{
			// GHSA rates it MEDIUM and gives 7.5: held at 6.9 → 20.7.
			name:    "score held inside the severity's band",
			f:       Finding{Severity: SeverityMedium, SeveritySource: "ghsa", CVSS: map[string]CVSS{"ghsa": {V3Score: 7.5}, "nvd": {V3Score: 9.8}}},
			score:   20.7,
			factors: []string{FactorSeverity},
		},
		{
			// Debian gives no CVSS: HIGH counts as 8.0 (24); KEV 30,
			// ransomware 5; EPSS 0.5 → 10·log10(500) = 27.0; fix 5.
			name:    "known exploited, ransomware, likely",
			f:       Finding{Severity: SeverityHigh, SeveritySource: "debian", KEV: &vulndb.KEV{DateAdded: "2024-01-10", KnownRansomwareCampaignUse: "Known"}, EPSS: &vulndb.EPSS{Score: 0.5, Percentile: 0.99}, FixedVersion: "1.0-2"},
			score:   91,
			factors: []string{FactorKEV, FactorRansomware, FactorEPSS, FactorSeverity, FactorFix},
		},
		{
			name:    "EPSS below the floor counts nothing",
			f:       Finding{Severity: SeverityLow, EPSS: &vulndb.EPSS{Score: 0.0004, Percentile: 0.1}},
			score:   6,
			factors: []string{FactorEPSS, FactorSeverity},
		},
		{
			// 30 + 28.5 + 5 = 63.5, less three quarters (47.6) = 15.9.
			name:    "unreachable keeps a quarter",
			f:       Finding{Severity: SeverityCritical, KEV: &vulndb.KEV{}, FixedVersions: []string{"v1.2.3"}, Reachability: Unreachable},
			score:   15.9,
			factors: []string{FactorKEV, FactorSeverity, FactorFix, FactorUnreachable},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RiskOf(&tt.f)
			if r.Score != tt.score {
				t.Errorf("score %v, want %v (%+v)", r.Score, tt.score, r.Reasons)
			}
			var factors []string
			sum := 0.0
			for _, x := range r.Reasons {
				factors = append(factors, x.Factor)
				sum += x.Points
				if x.Detail == "" {
					t.Errorf("reason %s has no detail", x.Factor)
				}
			}
			if !slices.Equal(factors, tt.factors) {
				t.Errorf("factors %v, want %v", factors, tt.factors)
			}
			if round1(sum) != r.Score {
				t.Errorf("reasons add up to %v, score is %v", sum, r.Score)
			}
		})
	}
}

func TestEPSSPoints(t *testing.T) {
	for _, tt := range []struct{ p, want float64 }{
		{0, 0}, {0.001, 0}, {0.01, 10}, {0.1, 20}, {1, 30},
	} {
		if got := round1(epssPoints(tt.p)); got != tt.want {
			t.Errorf("epssPoints(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// TestRiskOrderRealFeeds ranks findings whose KEV entries and EPSS scores
// come from the real CISA catalog and FIRST sample, read by vigil's own
// parsers, through the matcher. The expected order was worked out by hand
// from docs/matching.md's table.
func TestRiskOrderRealFeeds(t *testing.T) {
	ctx := context.Background()
	sink := &vulndbtest.Sink{}
	if err := kev.New(kev.Options{}).Load(ctx, vulndbtest.Dir(testutil.Shared(t, "data/feeds/cisa-kev")), sink); err != nil {
		t.Fatal(err)
	}
	if err := epss.New(epss.Options{File: "epss_scores-sample.csv"}).Load(ctx, vulndbtest.Dir(testutil.Shared(t, "data/feeds/epss")), sink); err != nil {
		t.Fatal(err)
	}
	vulns := map[string]vulndb.Vulnerability{}
	for _, v := range sink.Vulnerabilities {
		m := vulns[v.ID]
		m.ID = v.ID
		if v.KEV != nil {
			m.KEV = v.KEV
		}
		if v.EPSS != nil {
			m.EPSS = v.EPSS
		}
		vulns[v.ID] = m
	}
	// One package per CVE, each rated by Debian (no CVSS: the band's
	// middle counts).
	cases := []struct {
		cve, sev, fixed string
	}{
		{"CVE-2021-44228", SeverityCritical, "2.17.1-1"}, // KEV, ransomware: 30+5+28.5+5 = 68.5
		{"CVE-2014-0160", SeverityHigh, "1.0.1e-2"},      // KEV: 30+24+5 = 59
		{"CVE-1999-0005", SeverityMedium, ""},            // EPSS 0.91963: 29.6+16.5 = 46.1
		{"CVE-2025-48384", SeverityLow, ""},              // KEV: 30+6 = 36
		{"CVE-1999-0003", SeverityCritical, "1.1-1"},     // EPSS 0.04409: 16.4+28.5+5 = 49.9
		{"CVE-1999-0001", SeverityHigh, "1.1-1"},         // EPSS 0.00383: 5.8+24+5 = 34.8
		{"CVE-1999-0002", SeverityCritical, ""},          // EPSS 0.01328: 11.2+28.5 = 39.7
		{"CVE-1999-0004", SeverityHigh, "1.1-1"},         // EPSS 0.00917: 9.6+24+5 = 38.6
	}
	var recs []vulndb.Affected
	var store []vulndb.Vulnerability
	inv := &inventory.Inventory{Artifact: inventory.Artifact{OS: &inventory.OS{Family: "debian", Name: "12"}}}
	var pkgs []inventory.Package
	for _, c := range cases {
		v, ok := vulns[c.cve]
		if !ok {
			t.Fatalf("%s is in neither real feed", c.cve)
		}
		store = append(store, v)
		status := vulndb.StatusAffected
		if c.fixed != "" {
			status = vulndb.StatusFixed
		}
		recs = append(recs, deb(c.cve, "pkg-"+c.cve, c.fixed, status, c.sev))
		pkgs = append(pkgs, inventory.Package{Name: "pkg-" + c.cve, Version: "1.0-1"})
	}
	inv.Results = []inventory.Result{{Target: "img (debian 12)", Class: inventory.ClassOSPkgs, Type: "debian", Packages: pkgs}}
	res := matchOne(t, newMemStore(recs, store...), inv)
	fs := slices.Clone(res.Findings[0])
	slices.SortStableFunc(fs, func(a, b Finding) int { return CompareRisk(&a, &b) })
	var got []string
	scores := map[string]float64{}
	for _, f := range fs {
		got = append(got, f.ID)
		scores[f.ID] = f.Risk.Score
	}
	want := []string{"CVE-2021-44228", "CVE-2014-0160", "CVE-1999-0003", "CVE-1999-0005", "CVE-1999-0002", "CVE-1999-0004", "CVE-2025-48384", "CVE-1999-0001"}
	if !slices.Equal(got, want) {
		t.Errorf("risk order\n got %v\nwant %v\nscores %v", got, want, scores)
	}
	wantScores := map[string]float64{
		"CVE-2021-44228": 68.5, "CVE-2014-0160": 59, "CVE-1999-0003": 49.9, "CVE-1999-0005": 46.1,
		"CVE-1999-0002": 39.7, "CVE-1999-0004": 38.6, "CVE-2025-48384": 36, "CVE-1999-0001": 34.8,
	}
	for id, w := range wantScores {
		if scores[id] != w {
			t.Errorf("%s: score %v, want %v", id, scores[id], w)
		}
	}
}
