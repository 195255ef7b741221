package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/vigil-scanner/vigil/vulndb"
)

// synthetic is a vulndb.Source that puts a full-size set of advisories,
// deterministically from a seed: the same seed and version put the same
// records. Version 2 changes a fraction of the advisories (see changed).
//
// Shape (scale 1), chosen to be of the order of the public feeds in 2025:
//   - CVE universe: 290,000 CVEs (1999–2025, more each year), each with an
//     NVD record — a description of 150–600 characters, a CVSS 3.1 vector
//     (and 2.0 before 2016), one or two CWEs, 2–8 references — and an
//     EPSS score. 40 % of them belong to an upstream project that
//     distributions ship; projects follow a Zipf law (a "linux" with
//     thousands of CVEs, a long tail with one).
//   - Distribution releases (see distros): each ships a subset of the
//     projects and has one record per (CVE of a shipped project, source
//     package), kept with a probability that grows with the release's
//     age; the records carry fixed versions, statuses and, for some
//     distributions, their own severity and a short vulnerability record
//     (Debian's description, Red Hat's CVSS and title, Ubuntu's priority).
//   - Language ecosystems (see languages): GHSA-style advisories with a
//     summary, details of 300–1,500 characters and ranges, 70 % of them
//     naming a CVE of their own.
type synthetic struct {
	seed    uint64
	version int
	// changeRate is the share of advisories version 2 changes.
	changeRate float64
	// epss2 rescores every CVE in version 2, as FIRST does daily.
	epss2 bool
	scale float64
}

func (s *synthetic) Name() string        { return "synthetic" }
func (s *synthetic) DefaultBase() string { return "generated" }

const (
	cveCount     = 290_000
	projectCount = 25_000
)

// distro is one distribution family and its releases.
type distro struct {
	family   string
	releases []string
	// share of the projects it ships, and of their CVEs a release has.
	ship, keep float64
	scheme     string
	severity   bool   // its records carry its own rating
	vulnSource string // it publishes vulnerability records ("" none)
	binaries   int    // binary packages per source (rpm distributions list each)
}

var distros = []distro{
	{"alpine", []string{"3.12", "3.13", "3.14", "3.15", "3.16", "3.17", "3.18", "3.19", "3.20", "3.21", "3.22", "edge"}, 0.06, 0.55, vulndb.SchemeAPK, false, "", 1},
	{"debian", []string{"10", "11", "12", "13", "sid"}, 0.45, 0.6, vulndb.SchemeDeb, true, "debian", 1},
	{"ubuntu", []string{"16.04", "18.04", "20.04", "22.04", "24.04", "24.10", "25.04"}, 0.40, 0.55, vulndb.SchemeDeb, true, "ubuntu", 1},
	{"redhat", []string{"7", "8", "9", "10"}, 0.18, 0.6, vulndb.SchemeRPM, true, "redhat", 3},
	{"alma", []string{"8", "9", "10"}, 0.10, 0.3, vulndb.SchemeRPM, false, "", 3},
	{"rocky", []string{"8", "9"}, 0.10, 0.3, vulndb.SchemeRPM, false, "", 3},
	{"oracle", []string{"7", "8", "9"}, 0.12, 0.4, vulndb.SchemeRPM, true, "oracle", 2},
	{"amazon", []string{"1", "2", "2023"}, 0.08, 0.35, vulndb.SchemeRPM, true, "amazon", 2},
	{"sles", []string{"15.4", "15.5", "15.6", "12.5"}, 0.12, 0.45, vulndb.SchemeRPM, true, "", 2},
	{"azurelinux", []string{"3.0"}, 0.05, 0.5, vulndb.SchemeRPM, false, "", 1},
	{"cbl-mariner", []string{"2.0"}, 0.05, 0.5, vulndb.SchemeRPM, false, "", 1},
	{"wolfi", []string{""}, 0.08, 0.5, vulndb.SchemeAPK, false, "", 1},
	{"chainguard", []string{""}, 0.08, 0.5, vulndb.SchemeAPK, false, "", 1},
}

// language is one OSV ecosystem and its advisory count.
type language struct {
	ecosystem, scheme string
	advisories        int
}

var languages = []language{
	{"npm", vulndb.SchemeNpm, 16_000},
	{"PyPI", vulndb.SchemePEP440, 12_000},
	{"Maven", vulndb.SchemeMaven, 6_000},
	{"Go", vulndb.SchemeGo, 4_500},
	{"Packagist", vulndb.SchemeComposer, 5_000},
	{"crates.io", vulndb.SchemeCargo, 2_000},
	{"RubyGems", vulndb.SchemeGem, 1_600},
	{"NuGet", vulndb.SchemeNuGet, 1_000},
	{"Pub", vulndb.SchemePub, 150},
	{"Hex", vulndb.SchemeHex, 150},
}

// hash64 is a stable hash of its parts.
func hash64(parts ...any) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		fmt.Fprint(h, p, "\x00")
	}
	return h.Sum64()
}

// unit maps parts to [0, 1).
func unit(parts ...any) float64 { return float64(hash64(parts...)>>11) / (1 << 53) }

// changed says whether version 2 changes the advisory id.
func (s *synthetic) changed(id string) bool {
	return s.version >= 2 && unit(s.seed, "change", id) < s.changeRate
}

func (s *synthetic) rng(parts ...any) *rand.Rand {
	return rand.New(rand.NewPCG(s.seed, hash64(parts...)))
}

var words = strings.Fields(`a an the of in to and or allows attackers remote local authenticated unauthenticated
to cause denial service execute arbitrary code via crafted request packet file input buffer overflow heap
use-after-free out-of-bounds read write integer underflow injection cross-site scripting SQL command path
traversal improper validation certificate memory leak null pointer dereference race condition privilege
escalation information disclosure sensitive data function parameter component module library server client
before after version versions through affected when processing handling parsing decoding`)

func text(r *rand.Rand, minLen, maxLen int) string {
	n := minLen + r.IntN(maxLen-minLen+1)
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

// cveID is the i-th CVE: years 1999–2025, more in later years.
func cveID(i int) (id string, year int) {
	// Year by a quadratic CDF: year y holds ∝ (y-1998)².
	f := float64(i) / cveCount
	year = 1999 + int(math.Cbrt(f)*27)
	return fmt.Sprintf("CVE-%d-%05d", year, 10000+i), year
}

// project of CVE i, or -1 when no distribution ships it (60 %).
func projectOf(seed uint64, i int) int {
	u := unit(seed, "project", i)
	if u >= 0.4 {
		return -1
	}
	// Zipf: rank ∝ exp(u' · ln N).
	return int(math.Exp(unit(seed, "rank", i)*math.Log(projectCount))) - 1
}

func (s *synthetic) Load(ctx context.Context, _ vulndb.Fetcher, sink vulndb.Sink) error {
	n := int(cveCount * s.scale)
	// CVEs of each project.
	byProject := map[int][]int{}
	for i := range n {
		id, year := cveID(i)
		if err := s.putNVD(ctx, sink, id, year); err != nil {
			return err
		}
		if p := projectOf(s.seed, i); p >= 0 {
			byProject[p] = append(byProject[p], i)
		}
	}
	for _, d := range distros {
		if err := s.putDistro(ctx, sink, d, byProject); err != nil {
			return err
		}
	}
	next := n
	for _, l := range languages {
		count := int(float64(l.advisories) * s.scale)
		if err := s.putLanguage(ctx, sink, l, count, &next); err != nil {
			return err
		}
	}
	return nil
}

func (s *synthetic) putNVD(ctx context.Context, sink vulndb.Sink, id string, year int) error {
	r := s.rng("nvd", id)
	v := vulndb.Vulnerability{ID: id, Sources: []string{"nvd"}, Description: text(r, 150, 600)}
	score := 2 + r.Float64()*8
	if s.changed(id) {
		v.Description += " (updated analysis)"
		score = math.Min(10, score+0.5)
	}
	score = math.Round(score*10) / 10
	v.CVSS = []vulndb.CVSS{{Source: "nvd", Version: "3.1", Score: score,
		Vector: fmt.Sprintf("CVSS:3.1/AV:%c/AC:L/PR:N/UI:%c/S:U/C:H/I:%c/A:H", "NALP"[r.IntN(4)], "NR"[r.IntN(2)], "HLN"[r.IntN(3)])}}
	if year < 2016 {
		v.CVSS = append(v.CVSS, vulndb.CVSS{Source: "nvd", Version: "2.0", Score: score, Vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P"})
	}
	v.Severities = []vulndb.Severity{{Source: "nvd", Severity: rating(score)}}
	for range 1 + r.IntN(2) {
		v.CWEs = append(v.CWEs, fmt.Sprintf("CWE-%d", 20+r.IntN(900)))
	}
	for k := range 2 + r.IntN(7) {
		v.References = append(v.References, fmt.Sprintf("https://%s.example.org/%s/advisories/%s-%d", words[r.IntN(len(words))], words[r.IntN(len(words))], strings.ToLower(id), k))
	}
	if err := sink.PutVulnerability(ctx, v); err != nil {
		return err
	}
	e := r.Float64() * r.Float64() * r.Float64()
	date := dateOf(1)
	if s.version >= 2 && s.epss2 {
		e = math.Min(1, e*(0.9+0.2*unit(s.seed, "epss2", id)))
		date = dateOf(s.version)
	}
	return sink.PutVulnerability(ctx, vulndb.Vulnerability{ID: id, Sources: []string{"epss"},
		EPSS: &vulndb.EPSS{Score: math.Round(e*1e5) / 1e5, Percentile: math.Round(math.Sqrt(e)*1e5) / 1e5, Date: date}})
}

func dateOf(version int) string { return fmt.Sprintf("2025-06-%02d", version) }

func rating(score float64) string {
	switch {
	case score >= 9:
		return "CRITICAL"
	case score >= 7:
		return "HIGH"
	case score >= 4:
		return "MEDIUM"
	}
	return "LOW"
}

func (s *synthetic) putDistro(ctx context.Context, sink vulndb.Sink, d distro, byProject map[int][]int) error {
	for ri, rel := range d.releases {
		eco := d.family
		if rel != "" {
			eco += ":" + rel
		}
		// Older releases have lived through more CVEs but stop getting
		// new ones; the keep probability falls for the newest.
		age := float64(len(d.releases)-ri) / float64(len(d.releases))
		for p, cves := range byProject {
			if unit(s.seed, d.family, "ships", p) >= d.ship {
				continue
			}
			pkg := fmt.Sprintf("%s-project-%d", words[p%len(words)], p)
			for _, i := range cves {
				if unit(s.seed, eco, i) >= d.keep*(0.6+0.4*age) {
					continue
				}
				id, _ := cveID(i)
				if err := s.putDistroRecord(ctx, sink, d, eco, pkg, id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *synthetic) putDistroRecord(ctx context.Context, sink vulndb.Sink, d distro, eco, pkg, id string) error {
	r := s.rng(eco, id)
	major := 1 + r.IntN(9)
	fixed := fmt.Sprintf("%d.%d.%d", major, r.IntN(20), r.IntN(30))
	switch d.scheme {
	case vulndb.SchemeDeb:
		fixed += fmt.Sprintf("-%d+deb%du%d", 1+r.IntN(5), 10+r.IntN(4), 1+r.IntN(3))
	case vulndb.SchemeRPM:
		fixed += fmt.Sprintf("-%d.el%d_%d", 1+r.IntN(40), 7+r.IntN(3), r.IntN(9))
	case vulndb.SchemeAPK:
		fixed += fmt.Sprintf("-r%d", r.IntN(10))
	}
	if s.changed(id) {
		fixed += ".1"
	}
	status := vulndb.StatusFixed
	switch u := r.Float64(); {
	case u < 0.08:
		status = vulndb.StatusAffected
	case u < 0.12:
		status = vulndb.StatusWillNotFix
	case u < 0.15:
		status = vulndb.StatusNotAffected
	}
	names := []string{pkg}
	for b := 1; b < d.binaries; b++ {
		names = append(names, fmt.Sprintf("%s-%s", pkg, []string{"libs", "devel", "tools"}[b%3]))
	}
	for _, name := range names {
		a := vulndb.Affected{VulnID: id, Source: d.family, Ecosystem: eco, Package: name, Status: status}
		if status == vulndb.StatusFixed {
			a.Fixed = []string{fixed}
			a.Ranges = []vulndb.Range{{Scheme: d.scheme, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: fixed}}}}
		}
		if d.severity {
			a.Severity = []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}[r.IntN(4)]
		}
		if err := sink.PutAffected(ctx, a); err != nil {
			return err
		}
	}
	if d.vulnSource != "" && unit(s.seed, d.vulnSource, "record", id) < 0.5 {
		v := vulndb.Vulnerability{ID: id, Sources: []string{d.vulnSource}}
		switch d.vulnSource {
		case "debian":
			v.Description = text(r, 30, 90)
		case "redhat", "oracle", "amazon":
			v.Title = text(r, 20, 60)
			v.CVSS = []vulndb.CVSS{{Source: d.vulnSource, Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", Score: 5.9}}
		case "ubuntu":
			v.Severities = []vulndb.Severity{{Source: "ubuntu", Severity: "MEDIUM"}}
			v.References = []string{"https://ubuntu.com/security/" + id}
		}
		if err := sink.PutVulnerability(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *synthetic) putLanguage(ctx context.Context, sink vulndb.Sink, l language, count int, next *int) error {
	pkgs := max(count/3, 1)
	for k := range count {
		r := s.rng(l.ecosystem, k)
		id := fmt.Sprintf("GHSA-%s-%04x-%04x", strings.ToLower(l.ecosystem[:2]), k, hash64(l.ecosystem, k)&0xffff)
		pkg := fmt.Sprintf("%s-lib-%d", strings.ToLower(l.ecosystem), int(math.Exp(r.Float64()*math.Log(float64(pkgs)))))
		if l.ecosystem == "Maven" {
			pkg = "org.example." + pkg + ":" + pkg + "-core"
		}
		v := vulndb.Vulnerability{ID: id, Sources: []string{"osv:" + l.ecosystem}, Title: text(r, 30, 90), Description: text(r, 300, 1500),
			Severities: []vulndb.Severity{{Source: "ghsa", Severity: []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}[r.IntN(4)]}}}
		fixed := fmt.Sprintf("%d.%d.%d", r.IntN(10), r.IntN(30), r.IntN(30))
		if s.changed(id) {
			v.Description += " Updated."
			fixed += "1"
		}
		for j := range 1 + r.IntN(4) {
			v.References = append(v.References, fmt.Sprintf("https://github.com/example/%s/security/advisories/%s-%d", pkg, id, j))
		}
		if r.Float64() < 0.7 {
			// A CVE of its own (beyond the distributions' universe).
			cve := fmt.Sprintf("CVE-%d-%05d", 2015+r.IntN(11), 50000+*next)
			*next++
			v.Aliases = []string{cve}
			nvd := vulndb.Vulnerability{ID: cve, Sources: []string{"nvd"}, Description: text(r, 150, 500), Aliases: []string{id},
				CVSS: []vulndb.CVSS{{Source: "nvd", Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8}}}
			if err := sink.PutVulnerability(ctx, nvd); err != nil {
				return err
			}
		}
		if err := sink.PutVulnerability(ctx, v); err != nil {
			return err
		}
		a := vulndb.Affected{VulnID: id, Source: "osv:" + l.ecosystem, Ecosystem: l.ecosystem, Package: pkg, Status: vulndb.StatusFixed,
			Fixed:  []string{fixed},
			Ranges: []vulndb.Range{{Scheme: l.scheme, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: fixed}}}}}
		if err := sink.PutAffected(ctx, a); err != nil {
			return err
		}
	}
	return nil
}
