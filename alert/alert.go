// Package alert renders findings as alerts and delivers them to routes: a
// generic JSON webhook signed with HMAC-SHA256, a Slack-compatible incoming
// webhook (Block Kit) and email over SMTP.
//
// A Route is one destination with its Filter, as written in the server's
// configuration; NewSender turns a validated Route into a Sender, whose Send
// delivers one batch of alerts in one message. Send makes one attempt:
// retrying, batching and remembering what was sent belong to the caller (the
// server's outbox), which reads how a failure should be treated with
// IsPermanent and RetryAfter.
//
// The package reads no environment variables: Route.ResolveEnv fills the
// secrets a configuration names by variable, with a lookup function the
// caller passes.
//
// The payloads, the signature scheme and a receiver's side are described in
// docs/alerts.md.
package alert

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/vulndb"
)

// Reasons an alert is raised, the values of Alert.Reason.
const (
	// ReasonNewImage: the finding is in an image digest seen for the
	// first time (a new repository or a new tag).
	ReasonNewImage = "new image"
	// ReasonNewAdvisory: the finding appeared in an image already known,
	// because the vulnerability database changed.
	ReasonNewAdvisory = "new advisory"
	// ReasonRebuiltTag: a tag moved to a new digest and the finding was
	// not in the tag's previous digest.
	ReasonRebuiltTag = "rebuilt tag"
)

// Reasons lists every reason, in the order above.
func Reasons() []string {
	return []string{ReasonNewImage, ReasonNewAdvisory, ReasonRebuiltTag}
}

// Alert is one finding in one image, as delivered to every kind of route.
// Its JSON form is an element of the webhook body's "alerts" array.
type Alert struct {
	// IdempotencyKey identifies the alert across deliveries and retries:
	// a receiver that sees a key twice has seen the same alert twice. When
	// empty, Send fills it with DefaultKey.
	IdempotencyKey string `json:"idempotencyKey"`
	// Reason is one of the Reason constants. Required.
	Reason string `json:"reason"`

	// Image is the reference people know the image by:
	// "registry/repository:tag@digest" (the first tag in sorted order when
	// several name the digest).
	Image      string   `json:"image"`
	Registry   string   `json:"registry,omitempty"` // "registry.example.com", "127.0.0.1:5000"
	Repository string   `json:"repository"`         // "team/app", within Registry
	Digest     string   `json:"digest"`             // manifest digest, "sha256:…"
	Tags       []string `json:"tags,omitempty"`     // every tag naming Digest, sorted

	// ID is the vulnerability id (the CVE when there is one); Aliases its
	// other ids. Aliases is always an array in JSON, empty when none.
	ID      string   `json:"id"`
	Aliases []string `json:"aliases"`

	// Package, InstalledVersion and Purl identify the affected package;
	// FixedVersion is empty when no fix is known.
	Package          string        `json:"package"`
	InstalledVersion string        `json:"installedVersion"`
	FixedVersion     string        `json:"fixedVersion"`
	Purl             string        `json:"purl,omitempty"`
	Severity         string        `json:"severity"` // one of match.Severities(); Send makes anything else UNKNOWN
	Status           vulndb.Status `json:"status,omitempty"`

	Title string `json:"title,omitempty"`
	// URL is the advisory's page (match.Finding.PrimaryURL).
	URL string `json:"url,omitempty"`
	// KEV is true when the vulnerability is in CISA's Known Exploited
	// Vulnerabilities catalog.
	KEV bool `json:"kev"`
	// EPSS is the probability of exploitation in the next 30 days and
	// EPSSPercentile its rank among all scored CVEs, both 0 to 1; both are
	// zero (and left out of JSON) when not scored.
	EPSS           float64 `json:"epss,omitempty"`
	EPSSPercentile float64 `json:"epssPercentile,omitempty"`

	// FirstSeen is when the finding was first recorded for the image.
	FirstSeen time.Time `json:"firstSeen,omitzero"`

	// DashboardURL is the image's page on vigil's dashboard. Send sets it
	// when Options.DashboardURL is given.
	DashboardURL string `json:"dashboardURL,omitempty"`
}

// FromFinding fills an alert's finding fields (ID to URL, KEV and EPSS)
// from f. The image fields, Reason, FirstSeen and IdempotencyKey are the
// caller's.
func FromFinding(f match.Finding) Alert {
	a := Alert{
		ID:               f.ID,
		Aliases:          slices.Clone(f.Aliases),
		Package:          f.PkgName,
		InstalledVersion: f.InstalledVersion,
		FixedVersion:     f.FixedVersion,
		Purl:             f.PkgPurl,
		Severity:         f.Severity,
		Status:           f.Status,
		Title:            f.Title,
		URL:              f.PrimaryURL,
		KEV:              f.KEV != nil,
	}
	if f.EPSS != nil {
		a.EPSS, a.EPSSPercentile = f.EPSS.Score, f.EPSS.Percentile
	}
	return a
}

// DefaultKey is the idempotency key of an alert that has none: a hash of
// the image digest, the vulnerability id and the package (purl, name and
// installed version). It does not include the route; a caller that sends
// one alert to several routes and wants distinct keys per route sets
// IdempotencyKey itself.
func (a Alert) DefaultKey() string {
	return hashParts(a.Digest, a.ID, a.Purl, a.Package, a.InstalledVersion)
}

// BatchKey is the idempotency key of a delivery of alerts: a hash of their
// keys, independent of their order. It is the webhook's Idempotency-Key
// header and part of an email's Message-ID.
func BatchKey(alerts []Alert) string {
	keys := make([]string, len(alerts))
	for i, a := range alerts {
		keys[i] = cmp.Or(a.IdempotencyKey, a.DefaultKey())
	}
	slices.Sort(keys)
	return hashParts(slices.Compact(keys)...)
}

// hashParts is the hex SHA-256 of parts, each terminated by a NUL byte so
// that ("ab", "c") and ("a", "bc") differ.
func hashParts(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// prepare returns a copy of alerts ready to send: keys filled, severities
// one of match.Severities(), Aliases never null, dashboard links set.
func prepare(alerts []Alert, dashboard string) []Alert {
	out := slices.Clone(alerts)
	for i := range out {
		a := &out[i]
		if a.IdempotencyKey == "" {
			a.IdempotencyKey = a.DefaultKey()
		}
		if sev := strings.ToUpper(a.Severity); match.SeverityRank(sev) > 0 {
			a.Severity = sev
		} else {
			a.Severity = match.SeverityUnknown
		}
		if a.Aliases == nil {
			a.Aliases = []string{}
		}
		if dashboard != "" && a.Digest != "" {
			a.DashboardURL = imageLink(dashboard, a.Digest)
		}
	}
	return out
}

// imageLink is the dashboard page of the image with digest.
func imageLink(dashboard, digest string) string {
	return strings.TrimSuffix(dashboard, "/") + "/images/" + digest
}

// bySeverity returns a copy of alerts in the order people read them: most
// severe first, known exploited before the rest, then by EPSS, id, image
// and package.
func bySeverity(alerts []Alert) []Alert {
	out := slices.Clone(alerts)
	slices.SortStableFunc(out, func(a, b Alert) int {
		return cmp.Or(
			-cmp.Compare(match.SeverityRank(a.Severity), match.SeverityRank(b.Severity)),
			-cmp.Compare(b2i(a.KEV), b2i(b.KEV)),
			-cmp.Compare(a.EPSS, b.EPSS),
			cmp.Compare(a.ID, b.ID),
			cmp.Compare(a.Image, b.Image),
			cmp.Compare(a.Package, b.Package),
			cmp.Compare(a.InstalledVersion, b.InstalledVersion),
		)
	})
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// summary counts a batch for subjects and headers.
type summary struct {
	total      int
	bySeverity []sevCount // most severe first, only severities present
	kev        int
	fixable    int
	images     []string // distinct Image values, sorted
}

type sevCount struct {
	Severity string
	Count    int
}

func summarize(alerts []Alert) summary {
	s := summary{total: len(alerts)}
	counts := map[string]int{}
	for _, a := range alerts {
		sev := a.Severity
		if match.SeverityRank(sev) == 0 {
			sev = match.SeverityUnknown
		}
		counts[sev]++
		if a.KEV {
			s.kev++
		}
		if a.FixedVersion != "" {
			s.fixable++
		}
		s.images = append(s.images, cmp.Or(a.Image, a.Repository))
	}
	for _, sev := range match.Severities() {
		if n := counts[sev]; n > 0 {
			s.bySeverity = append(s.bySeverity, sevCount{sev, n})
		}
	}
	slices.Sort(s.images)
	s.images = slices.Compact(s.images)
	return s
}

// headline is the one-line summary of a batch, used as the email subject,
// the Slack header and notification text: "3 new vulnerabilities
// (1 CRITICAL, 2 HIGH) in registry/app:1.0@sha256:…".
func (s summary) headline() string {
	var b strings.Builder
	b.WriteString(plural(s.total, "new vulnerability", "new vulnerabilities"))
	if len(s.bySeverity) > 0 {
		b.WriteString(" (")
		for i, c := range s.bySeverity {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Itoa(c.Count) + " " + c.Severity)
		}
		b.WriteString(")")
	}
	switch len(s.images) {
	case 0:
	case 1:
		b.WriteString(" in " + shortImage(s.images[0]))
	default:
		b.WriteString(" in " + strconv.Itoa(len(s.images)) + " images")
	}
	return b.String()
}

// shortImage drops a digest from a reference that also has a tag, and
// shortens a bare digest, for titles.
func shortImage(ref string) string {
	name, digest, ok := strings.Cut(ref, "@")
	if !ok {
		return ref
	}
	if i := strings.LastIndex(name, "/"); strings.Contains(name[i+1:], ":") {
		return name
	}
	return name + "@" + shortDigest(digest)
}

// shortDigest is "sha256:" and the first 12 hex digits.
func shortDigest(d string) string {
	alg, hexPart, ok := strings.Cut(d, ":")
	if !ok || len(hexPart) <= 12 {
		return d
	}
	return alg + ":" + hexPart[:12]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
