package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigil-scanner/vigil/match"
)

func TestSlackSend(t *testing.T) {
	rcv := newReceiver(t)
	rcv.reply = "ok" // what Slack answers
	s, err := NewSender(Route{Type: TypeSlack, URL: rcv.URL + "/services/T000/B000/XXXX"},
		Options{Version: "1.2.3", DashboardURL: "https://vigil.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), sampleAlerts()); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.path != "/services/T000/B000/XXXX" || req.header.Get("Content-Type") != "application/json" {
		t.Errorf("POST %s with %v", req.path, req.header)
	}
	if req.header.Get(HeaderSignature) != "" {
		t.Error("a Slack request carries vigil's signature header")
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, req.body, "", "  "); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "slack.json", pretty.Bytes())
	checkSlackLimits(t, req.body)

	var m slackMessage
	if err := json.Unmarshal(req.body, &m); err != nil {
		t.Fatal(err)
	}
	all := m.Text
	for _, b := range m.Blocks {
		if b.Text != nil {
			all += "\n" + b.Text.Text
		}
	}
	for _, want := range []string{
		"3 new vulnerabilities (1 CRITICAL, 1 HIGH, 1 MEDIUM) in 2 images",
		"<https://avd.example.org/nvd/cve-2024-3094|CVE-2024-3094>",
		":warning: *Known exploited (KEV)*",
		"Malicious code in xz &lt;5.6.2 &amp; liblzma",                                           // escaped
		"&lt;script&gt;alert(1)&lt;/script&gt;",                                                  // escaped
		"<https://vigil.example.com/images/" + digestAPI + "|registry.example.com/team/api:2.0>", // dashboard link
	} {
		if !strings.Contains(all, want) {
			t.Errorf("message does not hold %q", want)
		}
	}
	if strings.Contains(all, "javascript:") {
		t.Error("a javascript: URL became a link")
	}
	// The most severe finding comes first.
	if !strings.Contains(m.Blocks[3].Text.Text, "CVE-2024-3094") {
		t.Errorf("first finding block: %q", m.Blocks[3].Text.Text)
	}
}

func TestSlackLimits(t *testing.T) {
	// 300 findings in 120 images, with long titles and versions: the
	// message stays within Block Kit's limits and says what it left out.
	var alerts []Alert
	for i := range 300 {
		a := sampleAlerts()[i%3]
		a.ID = fmt.Sprintf("CVE-2026-%05d", i)
		a.Image = fmt.Sprintf("registry.example.com/team/service-%03d:1.0", i%120)
		a.Title = strings.Repeat("very long title & <markup> ", 200)
		a.InstalledVersion = strings.Repeat("1.", 1000)
		a.Severity = match.Severities()[i%5]
		alerts = append(alerts, a)
	}
	body, err := marshal(renderSlack(prepare(alerts, "https://vigil.example.com"), Options{Version: "dev"}.withDefaults()))
	if err != nil {
		t.Fatal(err)
	}
	checkSlackLimits(t, body)
	var m slackMessage
	json.Unmarshal(body, &m)
	if n := len(m.Blocks); n != slackFindings+5 {
		t.Errorf("%d blocks, want %d", n, slackFindings+5)
	}
	more := m.Blocks[len(m.Blocks)-2].Elements[0].Text
	if !strings.Contains(more, "…and 280 more not shown: ") || !strings.Contains(more, "UNKNOWN") {
		t.Errorf("'more' line = %q", more)
	}
	if !strings.Contains(m.Blocks[1].Text.Text, "…and 110 more") {
		t.Errorf("summary does not count the images it left out: %q", m.Blocks[1].Text.Text)
	}
	if lines := strings.Count(m.Text, "\n• "); lines == 0 || !strings.HasSuffix(m.Text, fmt.Sprintf("…and %d more", 300-lines)) {
		t.Errorf("fallback text ends %q", m.Text[max(0, len(m.Text)-40):])
	}
}

// checkSlackLimits asserts Block Kit's limits on a message body.
func checkSlackLimits(t *testing.T, body []byte) {
	t.Helper()
	var m slackMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Text == "" || utf8.RuneCountInString(m.Text) > slackFallbackText {
		t.Errorf("fallback text has %d characters", utf8.RuneCountInString(m.Text))
	}
	if len(m.Blocks) > slackMaxBlocks {
		t.Errorf("%d blocks, Slack takes at most %d", len(m.Blocks), slackMaxBlocks)
	}
	for i, b := range m.Blocks {
		switch b.Type {
		case "header":
			if n := utf8.RuneCountInString(b.Text.Text); b.Text.Type != "plain_text" || n > slackMaxHeader {
				t.Errorf("block %d: header %s of %d characters", i, b.Text.Type, n)
			}
		case "section":
			if n := utf8.RuneCountInString(b.Text.Text); n > slackMaxText || n == 0 {
				t.Errorf("block %d: section text of %d characters", i, n)
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				t.Errorf("block %d: %d context elements", i, len(b.Elements))
			}
			for _, e := range b.Elements {
				if n := utf8.RuneCountInString(e.Text); n > slackMaxContextTxt {
					t.Errorf("block %d: context text of %d characters", i, n)
				}
			}
		case "divider":
		default:
			t.Errorf("block %d: unexpected type %q", i, b.Type)
		}
	}
}

func TestSlackErrors(t *testing.T) {
	// Slack answers errors in plain text; they reach the error message.
	rcv := newReceiver(t)
	rcv.status, rcv.reply = http.StatusBadRequest, "invalid_blocks"
	s, err := NewSender(Route{Type: TypeSlack, Name: "sec", URL: rcv.URL + "/services/T/B/TOKEN"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), sampleAlerts())
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), `slack route "sec": status 400 Bad Request: invalid_blocks`) {
		t.Errorf("Send = %v", err)
	}
	rcv.status, rcv.reply = http.StatusTooManyRequests, "rate_limited"
	rcv.header = http.Header{"Retry-After": {"30"}}
	err = s.Send(t.Context(), sampleAlerts())
	if d, ok := RetryAfter(err); IsPermanent(err) || !ok || d.Seconds() != 30 {
		t.Errorf("Send when rate limited = %v (retry after %v, %v)", err, d, ok)
	}
}

func TestSlackLink(t *testing.T) {
	for _, tt := range []struct{ url, text, want string }{
		{"https://x.example/a", "CVE-1", "<https://x.example/a|CVE-1>"},
		{"https://x.example/a?b=1&c=|>", "a|b<c>", "<https://x.example/a?b=1&amp;c=%7C%3E|a¦b&lt;c&gt;>"},
		{"javascript:alert(1)", "CVE-1", "CVE-1"},
		{"", "<b>", "&lt;b&gt;"},
		{"/relative", "x", "x"},
	} {
		if got := slackLink(tt.url, tt.text); got != tt.want {
			t.Errorf("slackLink(%q, %q) = %q, want %q", tt.url, tt.text, got, tt.want)
		}
	}
}

func TestOrdinal(t *testing.T) {
	for p, want := range map[float64]string{0.01: "1st", 0.02: "2nd", 0.03: "3rd", 0.11: "11th", 0.12: "12th", 0.13: "13th",
		0.21: "21st", 0.9931: "99th", 0: "0th", 0.5: "50th"} {
		if got := ordinal(p); got != want {
			t.Errorf("ordinal(%v) = %q, want %q", p, got, want)
		}
	}
}

func TestTruncateMrkdwn(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abc <https://x.example/long|link> tail", 12, "abc …"},
		{"abc &amp; def", 7, "abc …"},
		{"abc &amp; def", 11, "abc &amp; …"},
		{"<a|b> and more text", 8, "<a|b> a…"},
	} {
		got := truncateMrkdwn(tt.in, tt.n)
		if got != tt.want || utf8.RuneCountInString(got) > tt.n {
			t.Errorf("truncateMrkdwn(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
