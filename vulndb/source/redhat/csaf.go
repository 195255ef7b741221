package redhat

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/feed"
)

// document is the subset of a CSAF 2.0 VEX document that is read.
type document struct {
	Document struct {
		Title             string `json:"title"`
		AggregateSeverity struct {
			Text string `json:"text"`
		} `json:"aggregate_severity"`
		Tracking struct {
			ID                 string `json:"id"`
			Status             string `json:"status"`
			CurrentReleaseDate string `json:"current_release_date"`
		} `json:"tracking"`
	} `json:"document"`
	ProductTree struct {
		Branches      []branch       `json:"branches"`
		Relationships []relationship `json:"relationships"`
	} `json:"product_tree"`
	Vulnerabilities []vulnerability `json:"vulnerabilities"`
}

type branch struct {
	Category string   `json:"category"`
	Name     string   `json:"name"`
	Product  *product `json:"product"`
	Branches []branch `json:"branches"`
}

type product struct {
	Name      string `json:"name"`
	ProductID string `json:"product_id"`
	Helper    struct {
		CPE  string `json:"cpe"`
		PURL string `json:"purl"`
	} `json:"product_identification_helper"`
}

type relationship struct {
	Category        string `json:"category"`
	FullProductName struct {
		ProductID string `json:"product_id"`
	} `json:"full_product_name"`
	ProductReference   string `json:"product_reference"`
	RelatesToReference string `json:"relates_to_product_reference"`
}

type vulnerability struct {
	CVE string `json:"cve"`
	CWE *struct {
		ID string `json:"id"`
	} `json:"cwe"`
	Notes []struct {
		Category string `json:"category"`
		Text     string `json:"text"`
	} `json:"notes"`
	ReleaseDate   string              `json:"release_date"`
	ProductStatus map[string][]string `json:"product_status"`
	Remediations  []struct {
		Category   string   `json:"category"`
		Details    string   `json:"details"`
		ProductIDs []string `json:"product_ids"`
		URL        string   `json:"url"`
	} `json:"remediations"`
	Threats []struct {
		Category   string   `json:"category"`
		Details    string   `json:"details"`
		ProductIDs []string `json:"product_ids"`
	} `json:"threats"`
	Scores []struct {
		CVSSv3 *cvss `json:"cvss_v3"`
		CVSSv2 *cvss `json:"cvss_v2"`
	} `json:"scores"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
}

type cvss struct {
	Version      string  `json:"version"`
	VectorString string  `json:"vectorString"`
	BaseScore    float64 `json:"baseScore"`
}

// parsed is what one document yields.
type parsed struct {
	Vulnerabilities []vulndb.Vulnerability
	Affected        []vulndb.Affected
	Deleted         bool
}

// component is a product id resolved through the relationships.
type component struct {
	ecosystem, name, module, version string
}

type groupKey struct {
	ecosystem, name, module string
	status                  vulndb.Status
}

// parse reads one VEX document. Product ids that are not RPMs of a main
// Red Hat Enterprise Linux stream are ignored; ids that cannot be read are
// logged.
func parse(b []byte, file string, log *slog.Logger) (parsed, error) {
	var doc document
	if err := json.Unmarshal(b, &doc); err != nil {
		return parsed{}, err
	}
	if doc.Document.Tracking.Status == "deleted" {
		return parsed{Deleted: true}, nil
	}
	products := map[string]product{}
	var walk func([]branch)
	walk = func(bs []branch) {
		for _, br := range bs {
			if br.Product != nil && br.Product.ProductID != "" {
				products[br.Product.ProductID] = *br.Product
			}
			walk(br.Branches)
		}
	}
	walk(doc.ProductTree.Branches)
	rels := map[string]relationship{}
	for _, r := range doc.ProductTree.Relationships {
		rels[r.FullProductName.ProductID] = r
	}
	var out parsed
	for _, v := range doc.Vulnerabilities {
		id := v.CVE
		if id == "" {
			id = doc.Document.Tracking.ID
		}
		if id == "" {
			return parsed{}, fmt.Errorf("no CVE id")
		}
		out.Vulnerabilities = append(out.Vulnerabilities, vuln(doc, v, id))

		status := statuses(v)
		impact := map[string]string{}
		for _, t := range v.Threats {
			if t.Category == "impact" {
				for _, p := range t.ProductIDs {
					impact[p] = severity(t.Details)
				}
			}
		}
		groups := map[groupKey]*vulndb.Affected{}
		for _, pid := range slices.Sorted(maps.Keys(status)) {
			c, ok, err := resolve(pid, products, rels)
			if err != nil {
				log.Warn("redhat: skipping unreadable product", "file", file, "id", id, "product", pid, "err", err)
				continue
			}
			if !ok {
				continue
			}
			st := status[pid]
			if st == vulndb.StatusFixed && c.version == "" {
				log.Warn("redhat: skipping fixed product without a version", "file", file, "id", id, "product", pid)
				continue
			}
			k := groupKey{c.ecosystem, c.name, c.module, st}
			a := groups[k]
			if a == nil {
				a = &vulndb.Affected{VulnID: id, Source: "redhat", Ecosystem: c.ecosystem, Package: c.name, Status: st, Modularitylabel: c.module}
				groups[k] = a
			}
			if sev := impact[pid]; a.Severity == "" && sev != "" {
				a.Severity = sev
			}
			if st == vulndb.StatusFixed && !slices.Contains(a.Fixed, c.version) {
				a.Fixed = append(a.Fixed, c.version)
			}
		}
		for _, k := range slices.SortedFunc(maps.Keys(groups), compareKeys) {
			a := groups[k]
			slices.SortFunc(a.Fixed, func(x, y string) int {
				if feed.NaturalLess(x, y) {
					return -1
				}
				if feed.NaturalLess(y, x) {
					return 1
				}
				return 0
			})
			switch a.Status {
			case vulndb.StatusFixed:
				for _, f := range a.Fixed {
					a.Ranges = append(a.Ranges, vulndb.Range{Scheme: vulndb.SchemeRPM, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: f}}})
				}
			case vulndb.StatusNotAffected:
			default:
				a.Ranges = []vulndb.Range{{Scheme: vulndb.SchemeRPM, Events: []vulndb.Event{{Introduced: "0"}}}}
			}
			out.Affected = append(out.Affected, *a)
		}
	}
	return out, nil
}

func compareKeys(a, b groupKey) int {
	return strings.Compare(a.ecosystem+"\x00"+a.name+"\x00"+a.module+"\x00"+string(a.status),
		b.ecosystem+"\x00"+b.name+"\x00"+b.module+"\x00"+string(b.status))
}

// statuses maps every product id of v to its status. product_status wins;
// remediations fill ids it does not list (some trimmed documents carry
// only remediations) and refine known_affected.
func statuses(v vulnerability) map[string]vulndb.Status {
	out := map[string]vulndb.Status{}
	for cat, ids := range v.ProductStatus {
		var st vulndb.Status
		switch cat {
		case "fixed":
			st = vulndb.StatusFixed
		case "known_affected":
			st = vulndb.StatusAffected
		case "known_not_affected":
			st = vulndb.StatusNotAffected
		default: // under_investigation and others: no conclusion yet
			continue
		}
		for _, id := range ids {
			out[id] = st
		}
	}
	for _, r := range v.Remediations {
		var st vulndb.Status
		switch r.Category {
		case "vendor_fix":
			st = vulndb.StatusFixed
		case "no_fix_planned":
			st = vulndb.StatusWillNotFix
			if strings.Contains(strings.ToLower(r.Details), "out of support") {
				st = vulndb.StatusEndOfLife
			}
		case "none_available":
			st = vulndb.StatusAffected
		default:
			continue
		}
		for _, id := range r.ProductIDs {
			cur, listed := out[id]
			switch {
			case !listed:
				out[id] = st
			case cur == vulndb.StatusAffected && (st == vulndb.StatusWillNotFix || st == vulndb.StatusEndOfLife):
				out[id] = st
			}
		}
	}
	return out
}

var (
	nevra       = regexp.MustCompile(`^(.+)-([0-9]+):([^-:]+-[^-:]+?)(?:\.(?:x86_64|aarch64|ppc64le|ppc64|s390x|s390|i686|i386|noarch|src))?$`)
	legacyMod   = regexp.MustCompile(`^([^:/]+:[^:/]+)/([^/]+)$`)
	releaseNumb = regexp.MustCompile(`^[0-9]+`)
)

// resolve turns a product id into a component of a RHEL release. ok is
// false for products vigil does not match (other products, non-RPMs,
// extended-support streams).
func resolve(pid string, products map[string]product, rels map[string]relationship) (component, bool, error) {
	r, ok := rels[pid]
	if !ok {
		return component{}, false, nil
	}
	var c component
	platform := r.RelatesToReference
	for range 4 { // module chains: rpm → module → platform
		mr, ok := rels[platform]
		if !ok {
			break
		}
		if m := moduleOf(products[mr.ProductReference]); m != "" {
			c.module = m
		}
		platform = mr.RelatesToReference
	}
	eco, ok := ecosystem(products[platform].Helper.CPE)
	if !ok {
		return component{}, false, nil
	}
	c.ecosystem = eco
	ref := r.ProductReference
	p := products[ref]
	if p.Helper.PURL != "" {
		u, err := packageurl.FromString(p.Helper.PURL)
		if err != nil {
			return component{}, false, err
		}
		if u.Type != "rpm" {
			return component{}, false, nil
		}
		c.name = u.Name
		q := u.Qualifiers.Map()
		if u.Version != "" {
			c.version = u.Version
			if e := q["epoch"]; e != "" {
				c.version = e + ":" + u.Version
			}
		}
		if m := q["rpmmod"]; m != "" {
			c.module = nameStream(m)
		}
	}
	if c.name == "" {
		switch m := legacyMod.FindStringSubmatch(ref); {
		case m != nil:
			c.module, c.name = m[1], m[2]
		case strings.ContainsAny(ref, "/ "):
			return component{}, false, nil
		default:
			c.name = ref
		}
	}
	if c.version == "" {
		if m := nevra.FindStringSubmatch(ref); m != nil {
			c.name, c.version = m[1], m[2]+":"+m[3]
		}
	}
	return c, true, nil
}

// moduleOf returns "name:stream" for a module product.
func moduleOf(p product) string {
	if strings.HasPrefix(p.Helper.PURL, "pkg:rpmmod/") {
		if u, err := packageurl.FromString(p.Helper.PURL); err == nil {
			return nameStream(u.Name + ":" + u.Version)
		}
	}
	return ""
}

// nameStream cuts "nodejs:18:8090020231019152822:a75119d5" to "nodejs:18".
func nameStream(s string) string {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) < 2 {
		return s
	}
	return parts[0] + ":" + parts[1]
}

// ecosystem maps a main-stream RHEL CPE ("cpe:/o:redhat:enterprise_linux:9::baseos",
// "cpe:/a:redhat:enterprise_linux:8::appstream") to "redhat:<major>".
// Extended-support streams (rhel_eus, rhel_aus, rhel_e4s, rhel_tus) are
// not matched: their fixes ship in other builds than UBI images carry.
func ecosystem(cpe string) (string, bool) {
	parts := strings.Split(cpe, ":")
	if len(parts) < 5 || parts[0] != "cpe" || parts[2] != "redhat" || parts[3] != "enterprise_linux" {
		return "", false
	}
	major := releaseNumb.FindString(parts[4])
	if major == "" {
		return "", false
	}
	return "redhat:" + major, true
}

func severity(impact string) string {
	switch strings.ToLower(impact) {
	case "low":
		return "LOW"
	case "moderate":
		return "MEDIUM"
	case "important":
		return "HIGH"
	case "critical":
		return "CRITICAL"
	}
	return ""
}

func vuln(doc document, v vulnerability, id string) vulndb.Vulnerability {
	out := vulndb.Vulnerability{ID: id, Sources: []string{"redhat"}, Title: doc.Document.Title}
	for _, n := range v.Notes {
		switch n.Category {
		case "description":
			out.Description = n.Text
		case "summary":
			out.Title = n.Text
		}
	}
	if sev := severity(doc.Document.AggregateSeverity.Text); sev != "" {
		out.Severities = []vulndb.Severity{{Source: "redhat", Severity: sev}}
	}
	for _, s := range v.Scores {
		for _, c := range []*cvss{s.CVSSv3, s.CVSSv2} {
			if c == nil || c.VectorString == "" {
				continue
			}
			version := c.Version
			if version == "" {
				version = "2.0"
			}
			x := vulndb.CVSS{Source: "redhat", Version: version, Vector: c.VectorString, Score: c.BaseScore}
			if !slices.Contains(out.CVSS, x) {
				out.CVSS = append(out.CVSS, x)
			}
		}
	}
	if v.CWE != nil && strings.HasPrefix(v.CWE.ID, "CWE-") {
		out.CWEs = []string{v.CWE.ID}
	}
	for _, r := range v.References {
		if r.URL != "" && !slices.Contains(out.References, r.URL) {
			out.References = append(out.References, r.URL)
		}
	}
	for _, r := range v.Remediations {
		if r.Category == "vendor_fix" && r.URL != "" && !slices.Contains(out.References, r.URL) {
			out.References = append(out.References, r.URL)
		}
	}
	out.Published, _ = time.Parse(time.RFC3339, v.ReleaseDate)
	out.Modified, _ = time.Parse(time.RFC3339, doc.Document.Tracking.CurrentReleaseDate)
	return out
}
