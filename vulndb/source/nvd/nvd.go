// Package nvd reads the NVD CVE API 2.0,
// https://services.nvd.nist.gov/rest/json/cves/2.0.
//
// Format: pages {"resultsPerPage", "startIndex", "totalResults",
// "vulnerabilities": [{"cve": {…}}]}, each streamed one CVE at a time.
//
// Layouts. Against the API (LayoutAPI) page requests are the base followed
// by "?resultsPerPage=N&startIndex=M", N = Options.ResultsPerPage (default
// and maximum 2000), with Options.PageDelay between requests (default 6 s,
// NVD's public rate limit is 5 requests per 30 s). A mirror laid out as
// files (LayoutFiles) holds the API's responses as page-0.json,
// page-1.json, … in order; paging stops when startIndex plus the records
// read reaches totalResults, and a missing page before that is an error.
// LayoutAuto (the default) uses files when page-0.json exists.
//
// Records: one Vulnerability per CVE, source "nvd": the English
// description; every CVSS v2/v3.0/v3.1/v4.0 metric (vector and base score;
// Source "nvd" for nvd@nist.gov, else "nvd:<source identifier>"); one
// severity, from the Primary CVSS v3.x metric, else Primary v2, else
// Primary v4.0, else the first Secondary v3.x/v4.0 metric (CNA scores of
// CVEs NVD has not analysed); CWE ids (NVD-CWE-Other/noinfo dropped);
// reference URLs; published and lastModified. Rejected CVEs are skipped.
//
// No Affected records: NVD's CPE configurations describe upstream products,
// not distribution or language packages; matching packages against CPE
// ranges reports backported fixes as vulnerable and confuses same-named
// projects, so vigil matches packages only against vendor and ecosystem
// advisories.
package nvd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/feed"
)

// Layout of the base.
type Layout int

const (
	LayoutAuto  Layout = iota // files when page-0.json exists, else the API
	LayoutAPI                 // query strings against the API
	LayoutFiles               // page-0.json, page-1.json, …
)

// Options configure the source.
type Options struct {
	Layout Layout
	// ResultsPerPage for API requests; default 2000.
	ResultsPerPage int
	// PageDelay between API requests; default 6s. Files are not delayed.
	// A negative value means no delay.
	PageDelay time.Duration
	// Logger receives warnings; nil means slog.Default.
	Logger *slog.Logger
}

// Source is the NVD feed.
type Source struct{ opts Options }

// New returns the source configured by opts.
func New(opts Options) *Source { return &Source{opts: opts} }

// Name returns "nvd".
func (*Source) Name() string { return "nvd" }

// DefaultBase returns https://services.nvd.nist.gov/rest/json/cves/2.0.
func (*Source) DefaultBase() string { return "https://services.nvd.nist.gov/rest/json/cves/2.0" }

// Load reads every page.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	log := feed.Logger(s.opts.Logger)
	perPage := s.opts.ResultsPerPage
	if perPage <= 0 || perPage > 2000 {
		perPage = 2000
	}
	delay := s.opts.PageDelay
	if delay == 0 {
		delay = 6 * time.Second
	}
	layout := s.opts.Layout
	var first io.ReadCloser
	if layout == LayoutAuto || layout == LayoutFiles {
		rc, err := f.Open(ctx, "page-0.json")
		switch {
		case err == nil:
			layout = LayoutFiles
			first = rc
		case layout == LayoutAuto && errors.Is(err, fs.ErrNotExist):
			layout = LayoutAPI
		default:
			return fmt.Errorf("nvd: %w", err)
		}
	}
	start := 0
	for page := 0; ; page++ {
		var name string
		var pr io.ReadCloser
		if layout == LayoutFiles {
			name = fmt.Sprintf("page-%d.json", page)
			if first != nil {
				pr, first = first, nil
			}
		} else {
			name = fmt.Sprintf("?resultsPerPage=%d&startIndex=%d", perPage, start)
			if page > 0 && delay > 0 {
				t := time.NewTimer(delay)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
		}
		if pr == nil {
			rc, err := f.Open(ctx, name)
			if err != nil {
				return fmt.Errorf("nvd: page at startIndex %d: %w", start, err)
			}
			pr = rc
		}
		hdr, n, err := readPage(ctx, pr, name, sink, log)
		pr.Close()
		if err != nil {
			return fmt.Errorf("nvd: %s: %w", name, err)
		}
		if hdr.StartIndex != start {
			log.Warn("nvd: page starts at an unexpected index", "page", name, "startIndex", hdr.StartIndex, "want", start)
		}
		start = hdr.StartIndex + n
		if n == 0 || start >= hdr.TotalResults {
			return nil
		}
	}
}

type header struct {
	StartIndex   int
	TotalResults int
}

// readPage streams one page, returning its header and the number of
// entries it held (including skipped ones).
func readPage(ctx context.Context, r io.Reader, name string, sink vulndb.Sink, log *slog.Logger) (header, int, error) {
	var hdr header
	dec := json.NewDecoder(r)
	n, found := 0, false
	err := feed.Object(dec, func(key string) error {
		switch key {
		case "startIndex":
			return dec.Decode(&hdr.StartIndex)
		case "totalResults":
			return dec.Decode(&hdr.TotalResults)
		case "vulnerabilities":
			found = true
			return feed.Array(dec, func() error {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return err
				}
				n++
				var item struct {
					CVE cve `json:"cve"`
				}
				if err := json.Unmarshal(raw, &item); err != nil || item.CVE.ID == "" {
					log.Warn("nvd: skipping malformed record", "page", name, "index", n-1, "id", idOf(raw), "err", err)
					return nil
				}
				if item.CVE.VulnStatus == "Rejected" {
					log.Debug("nvd: skipping rejected CVE", "id", item.CVE.ID)
					return nil
				}
				return sink.PutVulnerability(ctx, item.CVE.vulnerability())
			})
		}
		return feed.Skip(dec)
	})
	if err == nil && !found {
		err = errors.New("no vulnerabilities list")
	}
	return hdr, n, err
}

// idOf recovers the id of a record that failed to decode, for the warning.
func idOf(raw json.RawMessage) string {
	var v struct {
		CVE struct {
			ID any `json:"id"`
		} `json:"cve"`
	}
	json.Unmarshal(raw, &v)
	if s, ok := v.CVE.ID.(string); ok {
		return s
	}
	return ""
}

type cve struct {
	ID           string `json:"id"`
	Published    string `json:"published"`
	LastModified string `json:"lastModified"`
	VulnStatus   string `json:"vulnStatus"`
	Descriptions []struct {
		Lang  string `json:"lang"`
		Value string `json:"value"`
	} `json:"descriptions"`
	Metrics struct {
		V40 []metric `json:"cvssMetricV40"`
		V31 []metric `json:"cvssMetricV31"`
		V30 []metric `json:"cvssMetricV30"`
		V2  []metric `json:"cvssMetricV2"`
	} `json:"metrics"`
	Weaknesses []struct {
		Description []struct {
			Lang  string `json:"lang"`
			Value string `json:"value"`
		} `json:"description"`
	} `json:"weaknesses"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
}

type metric struct {
	Source   string `json:"source"`
	Type     string `json:"type"`
	CVSSData struct {
		Version      string  `json:"version"`
		VectorString string  `json:"vectorString"`
		BaseScore    float64 `json:"baseScore"`
		BaseSeverity string  `json:"baseSeverity"`
	} `json:"cvssData"`
	// BaseSeverity sits outside cvssData for CVSS v2.
	BaseSeverity string `json:"baseSeverity"`
}

func (m metric) severity() string {
	s := m.CVSSData.BaseSeverity
	if s == "" {
		s = m.BaseSeverity
	}
	switch s = strings.ToUpper(s); s {
	case "LOW", "MEDIUM", "HIGH", "CRITICAL":
		return s
	case "NONE":
		return "LOW"
	}
	return ""
}

func (c cve) vulnerability() vulndb.Vulnerability {
	v := vulndb.Vulnerability{ID: c.ID, Sources: []string{"nvd"}}
	for _, d := range c.Descriptions {
		if d.Lang == "en" {
			v.Description = d.Value
			break
		}
	}
	for _, group := range [][]metric{c.Metrics.V40, c.Metrics.V31, c.Metrics.V30, c.Metrics.V2} {
		for _, m := range group {
			if m.CVSSData.VectorString == "" {
				continue
			}
			src := "nvd"
			if m.Source != "nvd@nist.gov" && m.Source != "" {
				src = "nvd:" + m.Source
			}
			v.CVSS = append(v.CVSS, vulndb.CVSS{Source: src, Version: m.CVSSData.Version, Vector: m.CVSSData.VectorString, Score: m.CVSSData.BaseScore})
		}
	}
	if sev := c.severity(); sev != "" {
		v.Severities = []vulndb.Severity{{Source: "nvd", Severity: sev}}
	}
	for _, w := range c.Weaknesses {
		for _, d := range w.Description {
			if strings.HasPrefix(d.Value, "CWE-") && !slices.Contains(v.CWEs, d.Value) {
				v.CWEs = append(v.CWEs, d.Value)
			}
		}
	}
	for _, r := range c.References {
		if r.URL != "" && !slices.Contains(v.References, r.URL) {
			v.References = append(v.References, r.URL)
		}
	}
	v.Published = parseTime(c.Published)
	v.Modified = parseTime(c.LastModified)
	return v
}

func (c cve) severity() string {
	primary := func(m metric) bool { return m.Type == "Primary" }
	secondary := func(m metric) bool { return m.Type != "Primary" }
	for _, pick := range []struct {
		groups [][]metric
		ok     func(metric) bool
	}{
		{[][]metric{c.Metrics.V31, c.Metrics.V30}, primary},
		{[][]metric{c.Metrics.V2}, primary},
		{[][]metric{c.Metrics.V40}, primary},
		{[][]metric{c.Metrics.V31, c.Metrics.V30, c.Metrics.V40}, secondary},
	} {
		for _, g := range pick.groups {
			for _, m := range g {
				if s := m.severity(); s != "" && pick.ok(m) {
					return s
				}
			}
		}
	}
	return ""
}

// parseTime reads NVD's zone-less timestamps ("2023-10-12T19:15:11.747") as
// UTC; RFC 3339 is accepted too. Unparseable values give the zero time.
func parseTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
