package match

import (
	"cmp"
	"math"
	"strconv"
	"strings"

	"github.com/vigil-scanner/vigil/vulndb"
)

// Risk is how much a finding matters, computed from what the database
// holds about it (docs/matching.md, "Risk"). Score is the sum of the
// Reasons' Points, 0 to 100, rounded to one decimal.
type Risk struct {
	Score   float64      `json:"score"`
	Reasons []RiskReason `json:"reasons"`
}

// RiskReason is one term of a risk score.
type RiskReason struct {
	// Factor is one of the Factor constants.
	Factor string `json:"factor"`
	// Points is what the factor adds (negative for FactorUnreachable).
	Points float64 `json:"points"`
	// Detail says it for people: "CISA KEV since 2024-01-10", "EPSS 0.104
	// (94th percentile)".
	Detail string `json:"detail"`
}

// Risk factors, the values of RiskReason.Factor, in the order a score's
// reasons list them.
const (
	FactorKEV         = "kev"         // in CISA's Known Exploited Vulnerabilities catalog
	FactorRansomware  = "ransomware"  // KEV says it is known to be used in ransomware campaigns
	FactorEPSS        = "epss"        // FIRST EPSS probability of exploitation
	FactorSeverity    = "severity"    // the severity shown, and its source's CVSS score
	FactorFix         = "fix"         // a fixed version exists
	FactorUnreachable = "unreachable" // Go: no vulnerable symbol is in the binary
)

// Points of the risk rule; docs/matching.md states the same table.
const (
	riskKEV        = 30.0
	riskRansomware = 5.0
	// riskEPSSPerDecade is given for each tenfold of the EPSS probability
	// above riskEPSSFloor, up to 30 at probability 1.
	riskEPSSPerDecade = 10.0
	riskEPSSFloor     = 0.001
	// riskPerCVSSPoint multiplies the CVSS base score (0–10).
	riskPerCVSSPoint = 3.0
	riskFix          = 5.0
	// riskUnreachableKeep is the share of the score an unreachable finding
	// keeps.
	riskUnreachableKeep = 0.25
)

// severityBands are the CVSS v3/v4 score bands of the qualitative ratings;
// a rating without a score counts as its band's middle.
var severityBands = map[string][2]float64{
	SeverityCritical: {9.0, 10.0},
	SeverityHigh:     {7.0, 8.9},
	SeverityMedium:   {4.0, 6.9},
	SeverityLow:      {0.1, 3.9},
}

// RiskOf computes the risk of f from its KEV entry, EPSS score, severity
// and CVSS, status and reachability. It reads f only.
func RiskOf(f *Finding) Risk {
	r := Risk{Reasons: make([]RiskReason, 0, 3)}
	add := func(factor string, points float64, detail string) {
		points = round1(points)
		r.Reasons = append(r.Reasons, RiskReason{Factor: factor, Points: points, Detail: detail})
		r.Score += points
	}
	if f.KEV != nil {
		detail := "in CISA KEV"
		if f.KEV.DateAdded != "" {
			detail += " since " + f.KEV.DateAdded
		}
		add(FactorKEV, riskKEV, detail)
		if strings.EqualFold(f.KEV.KnownRansomwareCampaignUse, "Known") {
			add(FactorRansomware, riskRansomware, "known use in ransomware campaigns")
		}
	}
	if f.EPSS != nil {
		add(FactorEPSS, epssPoints(f.EPSS.Score), epssDetail(f.EPSS))
	}
	score, detail := impact(f)
	add(FactorSeverity, riskPerCVSSPoint*score, detail)
	if HasFix(f) {
		add(FactorFix, riskFix, "fixed in "+firstFixed(f))
	}
	if f.Reachability == Unreachable {
		add(FactorUnreachable, -(1-riskUnreachableKeep)*r.Score, "no vulnerable symbol is in the binary")
	}
	r.Score = round1(r.Score)
	return r
}

// HasFix reports whether a fixed version is known for f.
func HasFix(f *Finding) bool {
	return len(f.FixedVersions) > 0 || f.FixedVersion != ""
}

func firstFixed(f *Finding) string {
	if len(f.FixedVersions) > 0 {
		return f.FixedVersions[0]
	}
	v, _, _ := strings.Cut(f.FixedVersion, ",")
	return v
}

// epssPoints is riskEPSSPerDecade for each tenfold above riskEPSSFloor:
// 0 at 0.1 % or less, 10 at 1 %, 20 at 10 %, 30 at 100 %.
func epssPoints(p float64) float64 {
	if p <= riskEPSSFloor {
		return 0
	}
	return min(riskEPSSPerDecade*math.Log10(p/riskEPSSFloor), 3*riskEPSSPerDecade)
}

func epssDetail(e *vulndb.EPSS) string {
	return "EPSS " + FormatEPSS(e.Score) + " (percentile " + FormatEPSS(e.Percentile) + ")"
}

// FormatEPSS writes an EPSS probability or percentile (0–1) with three
// significant decimals: "0.104", "0.00042".
func FormatEPSS(p float64) string {
	switch {
	case p == 0:
		return "0"
	case p >= 0.01:
		return trimZeros(strconv.FormatFloat(p, 'f', 3, 64))
	}
	return trimZeros(strconv.FormatFloat(p, 'g', 3, 64))
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") && !strings.ContainsAny(s, "e") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// SeverityScore is the CVSS-like 0–10 score behind f's severity, as the
// risk rule counts it: the base score the severity's source gives (v3,
// else v4.0, else v2), held inside the severity's band, or the band's
// middle when that source gives none; 0 for UNKNOWN. Unlike the highest
// score of any source, it agrees with the severity shown.
func SeverityScore(f *Finding) float64 {
	s, _ := impact(f)
	return s
}

// impact is the CVSS-like 0–10 score behind f's severity: the base score the
// severity's source gives (v3, else v4, else v2), held inside the
// severity's band so that the order follows the severity shown, or the
// band's middle when that source gives no score. UNKNOWN is 0.
func impact(f *Finding) (float64, string) {
	band, ok := severityBands[f.Severity]
	if !ok {
		return 0, "severity unknown"
	}
	c := f.CVSS[f.SeveritySource]
	score, version := 0.0, ""
	switch {
	case c.V3Score > 0:
		score, version = c.V3Score, "v3"
	case c.V40Score > 0:
		score, version = c.V40Score, "v4.0"
	case c.V2Score > 0:
		score, version = c.V2Score, "v2"
	}
	src := f.SeveritySource
	if src == "" {
		src = "unknown source"
	}
	if score == 0 {
		mid := round1((band[0] + band[1]) / 2)
		return mid, f.Severity + " (" + src + "), counted as CVSS " + one(mid)
	}
	held := min(max(score, band[0]), band[1])
	if held != score {
		return held, f.Severity + " (" + src + "; CVSS " + version + " " + one(score) + ", counted as " + one(held) + ")"
	}
	return score, f.Severity + " (" + src + " CVSS " + version + " " + one(score) + ")"
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// one writes x with one decimal.
func one(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// CompareRisk orders findings most risky first: by risk score, then
// severity, then id, package and installed version, so that equal scores
// keep a stable, readable order. It suits slices.SortFunc.
func CompareRisk(a, b *Finding) int {
	return cmp.Or(
		cmp.Compare(b.Risk.Score, a.Risk.Score),
		cmp.Compare(SeverityRank(b.Severity), SeverityRank(a.Severity)),
		cmp.Compare(a.ID, b.ID),
		cmp.Compare(a.PkgName, b.PkgName),
		cmp.Compare(a.InstalledVersion, b.InstalledVersion),
	)
}
