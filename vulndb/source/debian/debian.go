// Package debian reads the Debian security tracker's JSON export,
// https://security-tracker.debian.org/tracker/data/json.
//
// Format: {"<source package>": {"<CVE-… or TEMP-…>": {"description",
// "releases": {"<codename>": {"status", "fixed_version", "urgency",
// "nodsa", "nodsa_reason", "repositories"}}}}}. The document (~70 MB) is
// streamed one (package, issue) entry at a time.
//
// Records: one Affected per (issue, source package, release), ecosystem
// "debian:<major>" (codenames buzz…duke map to 1.1…15), scheme deb, source
// "debian". sid (unstable) is kept as "debian:sid": it has no number, and
// an image built from it reports no VERSION_ID; experimental and unknown
// codenames are skipped. One Vulnerability per issue carries the
// description.
//
// Status mapping:
//   - resolved, fixed_version "0"     → not_affected (the tracker's <not-affected>)
//   - resolved, fixed_version v       → fixed, range introduced "0" → fixed v
//   - open, urgency "end-of-life"     → end_of_life (no security support)
//   - open, nodsa_reason "ignored"    → will_not_fix
//   - open, plain no-dsa or postponed → affected (may still be fixed in a
//     point release)
//   - open                            → affected
//   - undetermined                    → no record: the tracker does not yet
//     know whether the release is affected, and a guess either way is
//     wrong as often as not (Trivy drops these too)
//
// Severity (Affected.Severity) comes from urgency, ignoring the "**" that
// marks NVD-derived values: high → HIGH, medium → MEDIUM, low and
// unimportant → LOW, "not yet assigned" → UNKNOWN. A release whose urgency
// is "end-of-life" (which says the release is unsupported, not how severe
// the issue is) takes the issue's urgency from sid, or else from the first
// other release, by codename, that has one; UNKNOWN when none has.
//
// Limits: DSA/DLA advisory ids are not attached; "resolved" without a
// fixed version is logged and skipped; the releases list only the
// tracker's supported releases, so records for older releases disappear
// from the feed.
package debian

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/distro"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/feed"
)

// File is the tracker document's name below the base.
const File = "json"

// Options configure the source.
type Options struct {
	// Logger receives warnings; nil means slog.Default.
	Logger *slog.Logger
}

// Source is the Debian security tracker feed.
type Source struct{ opts Options }

// New returns the source configured by opts.
func New(opts Options) *Source { return &Source{opts: opts} }

// Name returns "debian".
func (*Source) Name() string { return "debian" }

// DefaultBase returns https://security-tracker.debian.org/tracker/data/.
func (*Source) DefaultBase() string { return "https://security-tracker.debian.org/tracker/data/" }

type issue struct {
	Description string          `json:"description"`
	Releases    json.RawMessage `json:"releases"`
}

type release struct {
	Status       string `json:"status"`
	FixedVersion string `json:"fixed_version"`
	Urgency      string `json:"urgency"`
	NoDSA        string `json:"nodsa"`
	NoDSAReason  string `json:"nodsa_reason"`
}

// Load streams the tracker document.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	log := feed.Logger(s.opts.Logger)
	rc, err := f.Open(ctx, File)
	if err != nil {
		return fmt.Errorf("debian: %w", err)
	}
	defer rc.Close()
	skipped := map[string]bool{}
	dec := json.NewDecoder(rc)
	err = feed.Object(dec, func(pkg string) error {
		return feed.Object(dec, func(id string) error {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			return s.issue(ctx, sink, log, skipped, pkg, id, raw)
		})
	})
	if err != nil {
		return fmt.Errorf("debian: %s: %w", File, err)
	}
	if len(skipped) > 0 {
		log.Debug("debian: skipped unknown releases", "codenames", slices.Sorted(maps.Keys(skipped)))
	}
	return nil
}

func (s *Source) issue(ctx context.Context, sink vulndb.Sink, log *slog.Logger, skipped map[string]bool, pkg, id string, raw json.RawMessage) error {
	if pkg == "" || id == "" || strings.ContainsRune(pkg+id, 0) {
		log.Warn("debian: skipping entry without a package name or an id", "package", pkg, "id", id)
		return nil
	}
	var is issue
	var rels map[string]release
	err := json.Unmarshal(raw, &is)
	if err == nil {
		// The tracker writes an empty releases object as [].
		if r := bytes.TrimSpace(is.Releases); len(r) > 0 && r[0] != '[' {
			err = json.Unmarshal(r, &rels)
		}
	}
	if err != nil {
		log.Warn("debian: skipping malformed entry", "package", pkg, "id", id, "err", err)
		return nil
	}
	codenames := slices.Sorted(maps.Keys(rels))
	for _, codename := range codenames {
		num, ok := distro.DebianRelease(codename)
		if !ok {
			skipped[codename] = true
			continue
		}
		if rels[codename].Status == "undetermined" {
			continue // see the package doc
		}
		a, ok := affected(rels[codename])
		if !ok {
			log.Warn("debian: skipping entry with unknown state", "package", pkg, "id", id, "release", codename, "status", rels[codename].Status)
			continue
		}
		if strings.TrimSuffix(rels[codename].Urgency, "**") == "end-of-life" {
			a.Severity = issueSeverity(rels, codenames)
		}
		a.VulnID, a.Source, a.Ecosystem, a.Package = id, "debian", "debian:"+num, pkg
		if err := sink.PutAffected(ctx, a); err != nil {
			return err
		}
	}
	if is.Description == "" {
		return nil
	}
	return sink.PutVulnerability(ctx, vulndb.Vulnerability{ID: id, Description: is.Description, Sources: []string{"debian"}})
}

// affected maps one release entry; ok is false for an unusable entry.
func affected(r release) (vulndb.Affected, bool) {
	a := vulndb.Affected{Severity: severity(r.Urgency)}
	urgency := strings.TrimSuffix(r.Urgency, "**")
	switch r.Status {
	case "resolved":
		switch r.FixedVersion {
		case "":
			return a, false
		case "0":
			a.Status = vulndb.StatusNotAffected
		default:
			a.Status = vulndb.StatusFixed
			a.Fixed = []string{r.FixedVersion}
			a.Ranges = []vulndb.Range{{Scheme: vulndb.SchemeDeb, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: r.FixedVersion}}}}
		}
	case "open":
		switch {
		case urgency == "end-of-life":
			a.Status = vulndb.StatusEndOfLife
		case r.NoDSAReason == "ignored":
			a.Status = vulndb.StatusWillNotFix
		default:
			a.Status = vulndb.StatusAffected
		}
		a.Ranges = []vulndb.Range{{Scheme: vulndb.SchemeDeb, Events: []vulndb.Event{{Introduced: "0"}}}}
	default:
		return a, false
	}
	return a, true
}

// issueSeverity returns the severity the tracker gives an issue: sid's
// urgency, else the first other release's (in codenames order) that names
// one.
func issueSeverity(rels map[string]release, codenames []string) string {
	if r, ok := rels["sid"]; ok {
		if sev := severity(r.Urgency); sev != "UNKNOWN" {
			return sev
		}
	}
	for _, c := range codenames {
		if sev := severity(rels[c].Urgency); sev != "UNKNOWN" {
			return sev
		}
	}
	return "UNKNOWN"
}

func severity(urgency string) string {
	switch strings.TrimSuffix(urgency, "**") {
	case "high":
		return "HIGH"
	case "medium":
		return "MEDIUM"
	case "low", "unimportant":
		return "LOW"
	}
	return "UNKNOWN"
}
