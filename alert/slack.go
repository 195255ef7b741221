package alert

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-scanner/vigil/match"
)

// Slack's Block Kit limits (docs.slack.dev/reference/block-kit).
const (
	slackMaxBlocks     = 50   // blocks in one message
	slackMaxText       = 3000 // characters in a section's text
	slackMaxHeader     = 150  // characters in a header's plain_text
	slackMaxContextTxt = 2000 // characters in a context element (conservative)
)

// Rendering choices within those limits.
const (
	// slackFindings is how many findings get their own section; the rest
	// are counted in an "and N more" line. With the header, summary,
	// divider, "more" and footer blocks a message has at most 25 blocks.
	slackFindings = 20
	// slackImages is how many images the summary names.
	slackImages = 10
	// slackFallbackText bounds the top-level text, which clients without
	// Block Kit show and notifications quote.
	slackFallbackText = 3000
)

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type  string `json:"type"` // "plain_text" or "mrkdwn"
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type slack struct {
	route  Route
	opts   Options
	client *http.Client
}

func newSlack(route Route, opts Options) *slack {
	return &slack{route: route, opts: opts, client: noRedirects(opts.Client)}
}

func (s *slack) Send(ctx context.Context, alerts []Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	body, err := marshal(renderSlack(prepare(alerts, s.opts.DashboardURL), s.opts))
	if err != nil {
		return &sendError{route: s.route.label(), permanent: true, err: err}
	}
	return post(ctx, s.client, s.route, s.opts, body, nil, len(alerts))
}

// renderSlack builds the Block Kit message for a batch: a header with the
// headline, a summary section, one section per finding (the most severe
// slackFindings), a line counting the rest, and a footer.
func renderSlack(alerts []Alert, opts Options) slackMessage {
	sum := summarize(alerts)
	sorted := bySeverity(alerts)
	shown := sorted[:min(len(sorted), slackFindings)]

	var m slackMessage
	m.Blocks = append(m.Blocks, slackBlock{Type: "header", Text: &slackText{
		Type: "plain_text", Text: truncate(sum.headline(), slackMaxHeader), Emoji: true,
	}})
	m.Blocks = append(m.Blocks, mrkdwnSection(slackSummary(sum, alerts, opts)))
	m.Blocks = append(m.Blocks, slackBlock{Type: "divider"})
	for _, a := range shown {
		m.Blocks = append(m.Blocks, mrkdwnSection(slackFinding(a, len(sum.images) > 1)))
	}
	if rest := sorted[len(shown):]; len(rest) > 0 {
		m.Blocks = append(m.Blocks, slackContext("…and "+strconv.Itoa(len(rest))+" more not shown: "+countText(summarize(rest))))
	}
	footer := "Sent by vigil " + slackEscape(opts.Version)
	if opts.DashboardURL != "" {
		footer += " · " + slackLink(opts.DashboardURL, "Open the dashboard")
	}
	m.Blocks = append(m.Blocks, slackContext(footer))
	if len(m.Blocks) > slackMaxBlocks { // cannot happen with the constants above
		m.Blocks = m.Blocks[:slackMaxBlocks]
	}

	var text strings.Builder
	text.WriteString(slackEscape(sum.headline()))
	written := 0
	for _, a := range shown {
		line := "\n• " + a.Severity + " " + slackEscape(a.ID) + " in " + slackEscape(truncate(a.Package, 100)+" "+truncate(a.InstalledVersion, 60))
		if a.FixedVersion != "" {
			line += " (fixed in " + slackEscape(truncate(a.FixedVersion, 60)) + ")"
		}
		if len(sum.images) > 1 {
			line += ", " + slackEscape(shortImage(a.Image))
		}
		if utf8.RuneCountInString(text.String())+utf8.RuneCountInString(line) > slackFallbackText-40 {
			break
		}
		text.WriteString(line)
		written++
	}
	if n := len(sorted) - written; n > 0 {
		text.WriteString("\n…and " + strconv.Itoa(n) + " more")
	}
	m.Text = text.String()
	return m
}

func mrkdwnSection(s string) slackBlock {
	return slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncateMrkdwn(s, slackMaxText)}}
}

func slackContext(s string) slackBlock {
	return slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: truncateMrkdwn(s, slackMaxContextTxt)}}}
}

// truncateMrkdwn cuts s to at most n characters without leaving half a
// link ("<url|text>") or half an entity ("&amp;") at the end.
func truncateMrkdwn(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	t := strings.TrimSuffix(truncate(s, n), "…")
	if i := strings.LastIndexByte(t, '<'); i > strings.LastIndexByte(t, '>') {
		t = t[:i]
	}
	if i := strings.LastIndexByte(t, '&'); i > strings.LastIndexByte(t, ';') {
		t = t[:i]
	}
	return t + "…"
}

// slackSummary is the section under the header: counts, reasons and the
// images concerned.
func slackSummary(sum summary, alerts []Alert, opts Options) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(sum.total) + "* new: " + countText(sum))
	var reasons []string
	for _, r := range Reasons() {
		for _, a := range alerts {
			if a.Reason == r {
				reasons = append(reasons, r)
				break
			}
		}
	}
	if len(reasons) > 0 {
		b.WriteString("\n*Reason:* " + slackEscape(strings.Join(reasons, ", ")))
	}
	links := map[string]string{}
	for _, a := range alerts {
		links[a.Image] = a.DashboardURL
	}
	if len(sum.images) == 1 {
		b.WriteString("\n*Image:* " + slackImage(sum.images[0], links[sum.images[0]]))
	} else {
		b.WriteString("\n*Images:*")
		for _, img := range sum.images[:min(len(sum.images), slackImages)] {
			b.WriteString("\n• " + slackImage(img, links[img]))
		}
		if n := len(sum.images) - slackImages; n > 0 {
			b.WriteString("\n• …and " + strconv.Itoa(n) + " more")
		}
	}
	return b.String()
}

// countText is "1 CRITICAL, 2 HIGH · 1 known exploited · 2 fixable".
func countText(s summary) string {
	var parts []string
	for _, c := range s.bySeverity {
		parts = append(parts, strconv.Itoa(c.Count)+" "+c.Severity)
	}
	text := strings.Join(parts, ", ")
	if s.kev > 0 {
		text += " · " + strconv.Itoa(s.kev) + " known exploited"
	}
	if s.fixable > 0 {
		text += " · " + strconv.Itoa(s.fixable) + " fixable"
	}
	return text
}

// slackFinding is one finding's section text.
func slackFinding(a Alert, withImage bool) string {
	var b strings.Builder
	b.WriteString(severityEmoji(a.Severity) + " *" + slackEscape(cmp.Or(a.Severity, match.SeverityUnknown)) + "* ")
	b.WriteString(slackLink(a.URL, a.ID))
	if a.KEV {
		b.WriteString("  :warning: *Known exploited (KEV)*")
	}
	b.WriteString("\n`" + codeSafe(truncate(a.Package, 100)) + "` " + slackEscape(truncate(a.InstalledVersion, 60)))
	if a.FixedVersion != "" {
		b.WriteString(" → fixed in " + slackEscape(truncate(a.FixedVersion, 60)))
	} else {
		b.WriteString(" · no fix yet")
	}
	var meta []string
	if withImage {
		meta = append(meta, slackImage(a.Image, a.DashboardURL))
	}
	if a.EPSS > 0 {
		meta = append(meta, "EPSS "+percent(a.EPSS)+" ("+ordinal(a.EPSSPercentile)+" percentile)")
	}
	if len(a.Aliases) > 0 {
		meta = append(meta, "also "+slackEscape(truncate(strings.Join(a.Aliases, ", "), 200)))
	}
	if len(meta) > 0 {
		b.WriteString("\n" + strings.Join(meta, " · "))
	}
	if a.Title != "" {
		b.WriteString("\n" + slackEscape(truncate(oneLine(a.Title), 200)))
	}
	return b.String()
}

func slackImage(ref, link string) string {
	if link == "" {
		return "`" + codeSafe(shortImage(ref)) + "`"
	}
	return slackLink(link, shortImage(ref))
}

// severityEmoji marks a severity with a coloured circle.
func severityEmoji(sev string) string {
	switch sev {
	case match.SeverityCritical:
		return ":red_circle:"
	case match.SeverityHigh:
		return ":large_orange_circle:"
	case match.SeverityMedium:
		return ":large_yellow_circle:"
	case match.SeverityLow:
		return ":large_blue_circle:"
	}
	return ":white_circle:"
}

// slackEscape escapes the three characters mrkdwn gives meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackLink is a mrkdwn link, or the escaped text alone when u is not an
// http(s) URL.
func slackLink(u, text string) string {
	if webURL(u) == "" {
		return slackEscape(text)
	}
	u = strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", "&", "&amp;", " ", "%20").Replace(u)
	return "<" + u + "|" + strings.ReplaceAll(slackEscape(text), "|", "¦") + ">"
}

// webURL returns u when it is an absolute http or https URL, else "": an
// advisory's link is data from a feed, and only web pages become links.
func webURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return u
}

// codeSafe makes s safe inside a `code` span.
func codeSafe(s string) string {
	return slackEscape(strings.ReplaceAll(oneLine(s), "`", "'"))
}

// oneLine folds line breaks and tabs into spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// percent formats a probability: 0.9423 as "94.2%".
func percent(p float64) string {
	return strconv.FormatFloat(p*100, 'f', 1, 64) + "%"
}

// ordinal formats a percentile (0 to 1) as "99th".
func ordinal(p float64) string {
	n := int(p * 100)
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
