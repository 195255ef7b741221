// Package kev reads CISA's Known Exploited Vulnerabilities catalog,
// https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json
// (also mirrored in github.com/cisagov/kev-data).
//
// Format: {"catalogVersion", "dateReleased", "count", "vulnerabilities":
// [{"cveID", "dateAdded", "dueDate", "requiredAction",
// "knownRansomwareCampaignUse", "cwes", …}]}, read one entry at a time.
//
// Records: one Vulnerability per entry carrying only the ID, the KEV
// membership, the listed CWEs and the source name; no Affected records.
// Limits: the catalog's vendor/product text is not kept.
package kev

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/feed"
)

// File is the catalog's name below the base.
const File = "known_exploited_vulnerabilities.json"

// Options configure the source.
type Options struct {
	// Logger receives warnings; nil means slog.Default.
	Logger *slog.Logger
}

// Source is the CISA KEV feed.
type Source struct{ opts Options }

// New returns the source configured by opts.
func New(opts Options) *Source { return &Source{opts: opts} }

// Name returns "kev".
func (*Source) Name() string { return "kev" }

// DefaultBase returns https://www.cisa.gov/sites/default/files/feeds/.
func (*Source) DefaultBase() string { return "https://www.cisa.gov/sites/default/files/feeds/" }

type entry struct {
	CVEID                      string   `json:"cveID"`
	DateAdded                  string   `json:"dateAdded"`
	DueDate                    string   `json:"dueDate"`
	RequiredAction             string   `json:"requiredAction"`
	KnownRansomwareCampaignUse string   `json:"knownRansomwareCampaignUse"`
	CWEs                       []string `json:"cwes"`
}

// Load reads the catalog.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	log := feed.Logger(s.opts.Logger)
	rc, err := f.Open(ctx, File)
	if err != nil {
		return fmt.Errorf("kev: %w", err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	found := false
	err = feed.Object(dec, func(key string) error {
		if key != "vulnerabilities" {
			return feed.Skip(dec)
		}
		found = true
		i := 0
		return feed.Array(dec, func() error {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			i++
			var e entry
			if err := json.Unmarshal(raw, &e); err != nil {
				log.Warn("kev: skipping malformed entry", "index", i-1, "err", err)
				return nil
			}
			if !feed.IsCVE(e.CVEID) || e.DateAdded == "" {
				log.Warn("kev: skipping entry without cveID or dateAdded", "index", i-1, "cve", e.CVEID)
				return nil
			}
			return sink.PutVulnerability(ctx, vulndb.Vulnerability{
				ID: e.CVEID,
				KEV: &vulndb.KEV{
					DateAdded:                  e.DateAdded,
					DueDate:                    e.DueDate,
					RequiredAction:             e.RequiredAction,
					KnownRansomwareCampaignUse: e.KnownRansomwareCampaignUse,
				},
				CWEs:    cwes(e.CWEs),
				Sources: []string{"kev"},
			})
		})
	})
	if err != nil {
		return fmt.Errorf("kev: %s: %w", File, err)
	}
	if !found {
		return fmt.Errorf("kev: %s: no vulnerabilities list", File)
	}
	return nil
}

func cwes(in []string) []string {
	var out []string
	for _, c := range in {
		if strings.HasPrefix(c, "CWE-") {
			out = append(out, c)
		}
	}
	return out
}
