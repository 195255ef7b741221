package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xeipuuv/gojsonschema"

	"github.com/vigil-scanner/vigil/internal/testutil"
)

// receiver is a real HTTP server that records what it is sent and answers
// with the status and headers a test sets.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	status   int
	header   http.Header
	reply    string
}

type received struct {
	method string
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Errorf("receiver: %v", err)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests = append(r.requests, received{req.Method, req.URL.Path, req.Header.Clone(), body})
		for k, v := range r.header {
			w.Header()[k] = v
		}
		w.WriteHeader(r.status)
		io.WriteString(w, r.reply)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.requests...)
}

func TestWebhookSend(t *testing.T) {
	rcv := newReceiver(t)
	const secret = "whsec_0123456789"
	s, err := NewSender(Route{Type: TypeWebhook, URL: rcv.URL + "/hook", Secret: secret},
		Options{Now: func() time.Time { return testNow }, Version: "1.2.3", DashboardURL: "https://vigil.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	alerts := sampleAlerts()
	alerts[2].IdempotencyKey = "" // filled with DefaultKey
	if err := s.Send(t.Context(), alerts); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.method != http.MethodPost || req.path != "/hook" {
		t.Errorf("%s %s, want POST /hook", req.method, req.path)
	}
	for k, want := range map[string]string{
		"Content-Type":       "application/json",
		"User-Agent":         "vigil/1.2.3",
		HeaderTimestamp:      strconv.FormatInt(testNow.Unix(), 10),
		HeaderIdempotencyKey: BatchKey(prepare(alerts, "")),
	} {
		if got := req.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	sig := req.header.Get(HeaderSignature)
	// The receiver's check, with the clock check off: testNow is fixed.
	if err := Verify(secret, req.header.Get(HeaderTimestamp), req.body, sig, 0); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := Verify("other secret", req.header.Get(HeaderTimestamp), req.body, sig, 0); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify with the wrong secret = %v, want ErrSignature", err)
	}
	checkGolden(t, "webhook.json", req.body)

	// The body decodes with the field names the acceptance tests read.
	var body struct {
		Alerts []map[string]any `json:"alerts"`
	}
	if err := json.Unmarshal(req.body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Alerts) != 3 {
		t.Fatalf("%d alerts in body, want 3", len(body.Alerts))
	}
	for _, a := range body.Alerts {
		for _, k := range []string{"idempotencyKey", "reason", "image", "repository", "digest", "id", "aliases",
			"package", "installedVersion", "fixedVersion", "severity", "kev"} {
			if _, ok := a[k]; !ok {
				t.Errorf("alert %v has no %q", a["id"], k)
			}
		}
		if _, ok := a["aliases"].([]any); !ok {
			t.Errorf("alert %v: aliases = %v, want an array", a["id"], a["aliases"])
		}
	}
	if got := body.Alerts[2]["idempotencyKey"]; got != alerts[2].DefaultKey() {
		t.Errorf("empty key sent as %v, want DefaultKey", got)
	}

	// Sending the same alerts again carries the same Idempotency-Key.
	if err := s.Send(t.Context(), alerts); err != nil {
		t.Fatal(err)
	}
	if reqs := rcv.got(); reqs[1].header.Get(HeaderIdempotencyKey) != req.header.Get(HeaderIdempotencyKey) {
		t.Error("a redelivery carries a different Idempotency-Key")
	}
	// Nothing to send, nothing sent.
	if err := s.Send(t.Context(), nil); err != nil || len(rcv.got()) != 2 {
		t.Errorf("Send(nil) = %v and made a request", err)
	}
}

func TestWebhookUnsigned(t *testing.T) {
	rcv := newReceiver(t)
	s, err := NewSender(Route{Type: TypeWebhook, URL: rcv.URL}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), sampleAlerts()[:1]); err != nil {
		t.Fatal(err)
	}
	h := rcv.got()[0].header
	if h.Get(HeaderSignature) != "" || h.Get(HeaderTimestamp) != "" {
		t.Errorf("a route without secret signed its request: %v", h)
	}
	if h.Get(HeaderIdempotencyKey) == "" || !strings.HasPrefix(h.Get("User-Agent"), "vigil/") {
		t.Errorf("headers %v", h)
	}
}

func TestWebhookStatus(t *testing.T) {
	now := testNow
	tests := []struct {
		status     int
		header     http.Header
		reply      string
		ok         bool
		permanent  bool
		retryAfter time.Duration // -1: none
		inError    string
	}{
		{status: 200, ok: true, retryAfter: -1},
		{status: 202, ok: true, retryAfter: -1},
		{status: 204, ok: true, retryAfter: -1},
		{status: 400, reply: `{"error":"bad alert"}`, permanent: true, retryAfter: -1, inError: `400 Bad Request: {"error":"bad alert"}`},
		{status: 401, permanent: true, retryAfter: -1, inError: "401"},
		{status: 404, permanent: true, retryAfter: -1},
		{status: 410, reply: "channel_is_archived", permanent: true, retryAfter: -1, inError: "channel_is_archived"},
		{status: 408, retryAfter: -1},
		{status: 429, header: http.Header{"Retry-After": {"120"}}, retryAfter: 120 * time.Second},
		{status: 429, header: http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, retryAfter: 90 * time.Second},
		{status: 429, retryAfter: -1},
		{status: 429, header: http.Header{"Retry-After": {"soon"}}, retryAfter: -1},
		{status: 500, reply: "boom\n\x00\x1b[31mred", retryAfter: -1, inError: "500 Internal Server Error: boom [31mred"},
		{status: 502, retryAfter: -1},
		{status: 503, header: http.Header{"Retry-After": {"7"}}, retryAfter: 7 * time.Second},
		{status: 500, header: http.Header{"Retry-After": {"7"}}, retryAfter: -1}, // only 429 and 503
		{status: 304, permanent: true, retryAfter: -1},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			rcv := newReceiver(t)
			rcv.status, rcv.header, rcv.reply = tt.status, tt.header, tt.reply
			s, err := NewSender(Route{Type: TypeWebhook, URL: rcv.URL}, Options{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), sampleAlerts())
			if tt.ok {
				if err != nil {
					t.Fatalf("Send = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Send = nil, want an error")
			}
			if got := IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			d, ok := RetryAfter(err)
			if tt.retryAfter < 0 && ok {
				t.Errorf("RetryAfter = %v, want none", d)
			}
			if tt.retryAfter >= 0 && (!ok || d != tt.retryAfter) {
				t.Errorf("RetryAfter = %v, %v, want %v", d, ok, tt.retryAfter)
			}
			if !strings.Contains(err.Error(), tt.inError) || !strings.Contains(err.Error(), "webhook route http://127.0.0.1") {
				t.Errorf("error %q does not name the route or hold %q", err, tt.inError)
			}
		})
	}
}

func TestWebhookRedirectNotFollowed(t *testing.T) {
	target := newReceiver(t)
	redirect := newReceiver(t)
	redirect.status = http.StatusFound
	redirect.header = http.Header{"Location": {target.URL + "/elsewhere"}}
	s, err := NewSender(Route{Type: TypeWebhook, URL: redirect.URL}, Options{Client: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), sampleAlerts())
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "redirects are not followed") {
		t.Errorf("Send through a redirect = %v, want a permanent error saying so", err)
	}
	if n := len(target.got()); n != 0 {
		t.Errorf("the redirect was followed: the target got %d requests", n)
	}
}

func TestWebhookNetworkErrors(t *testing.T) {
	// A port nothing listens on: connection refused, transient.
	s, err := NewSender(Route{Type: TypeSlack, URL: "http://" + closedPort(t) + "/services/T000/B000/SECRETTOKEN"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), sampleAlerts())
	if err == nil || IsPermanent(err) {
		t.Errorf("Send to a closed port = %v, want a transient error", err)
	}
	if strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Errorf("error %q holds the webhook URL's token", err)
	}

	// A receiver that does not answer within the timeout.
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer slow.Close()
	defer close(hang)
	s, err = NewSender(Route{Type: TypeWebhook, URL: slow.URL}, Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), sampleAlerts())
	if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send to a hanging receiver = %v, want a transient deadline error", err)
	}

	// A cancelled context.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = s.Send(ctx, sampleAlerts())
	if !errors.Is(err, context.Canceled) || IsPermanent(err) {
		t.Errorf("Send with a cancelled context = %v", err)
	}
}

func TestVerify(t *testing.T) {
	const secret = "s3cret"
	body := []byte(`{"alerts":[]}`)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	old := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	future := strconv.FormatInt(time.Now().Add(10*time.Minute).Unix(), 10)
	tests := []struct {
		name    string
		ts      string
		body    []byte
		sig     string
		skew    time.Duration
		wantErr error
	}{
		{"good", now, body, Sign(secret, now, body), 5 * time.Minute, nil},
		{"good, no clock check", old, body, Sign(secret, old, body), 0, nil},
		{"stale", old, body, Sign(secret, old, body), 5 * time.Minute, ErrTimestamp},
		{"future", future, body, Sign(secret, future, body), 5 * time.Minute, ErrTimestamp},
		{"body changed", now, []byte(`{"alerts":[{}]}`), Sign(secret, now, body), time.Minute, ErrSignature},
		{"timestamp changed", old, body, Sign(secret, now, body), 0, ErrSignature},
		{"other secret", now, body, Sign("other", now, body), time.Minute, ErrSignature},
		{"no prefix", now, body, strings.TrimPrefix(Sign(secret, now, body), "sha256="), time.Minute, ErrSignature},
		{"sha1 prefix", now, body, "sha1=" + strings.TrimPrefix(Sign(secret, now, body), "sha256="), time.Minute, ErrSignature},
		{"short", now, body, Sign(secret, now, body)[:40], time.Minute, ErrSignature},
		{"not hex", now, body, "sha256=" + strings.Repeat("zz", 32), time.Minute, ErrSignature},
		{"empty signature", now, body, "", time.Minute, ErrSignature},
		{"empty timestamp", "", body, Sign(secret, "", body), time.Minute, ErrTimestamp},
		{"signed timestamp", "+" + now, body, Sign(secret, "+"+now, body), time.Minute, ErrTimestamp},
		{"huge timestamp", "99999999999999999999", body, Sign(secret, "99999999999999999999", body), 0, ErrTimestamp},
		{"fraction", now + ".5", body, Sign(secret, now+".5", body), time.Minute, ErrTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(secret, tt.ts, tt.body, tt.sig, tt.skew)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// FuzzVerify feeds Verify the untrusted header values and body a receiver
// gets: it must never panic, and must accept exactly what Sign produced.
func FuzzVerify(f *testing.F) {
	f.Add("1700000000", []byte(`{"alerts":[]}`), "sha256=00")
	f.Add("", []byte{}, "")
	f.Add("017", []byte("x"), "sha256="+strings.Repeat("a", 64))
	f.Fuzz(func(t *testing.T, ts string, body []byte, sig string) {
		const secret = "fuzz"
		err := Verify(secret, ts, body, sig, 0)
		if err == nil && sig != Sign(secret, ts, body) && !strings.EqualFold(sig, Sign(secret, ts, body)) {
			t.Fatalf("Verify accepted %q for %q.%q", sig, ts, body)
		}
		good := Sign(secret, ts, body)
		if err := Verify(secret, ts, body, good, 0); err != nil {
			if _, perr := parseTimestamp(ts); perr == nil {
				t.Fatalf("Verify rejected Sign's own signature: %v", err)
			}
		}
		if len(body) > 0 {
			changed := bytes.Clone(body)
			changed[0] ^= 1
			if Verify(secret, ts, changed, good, 0) == nil {
				t.Fatal("Verify accepted a changed body")
			}
		}
	})
}

// TestSchema validates webhook bodies against docs/vigil-alerts.schema.json,
// and checks the schema refuses what it should.
func TestSchema(t *testing.T) {
	path := filepath.Join(testutil.RepoRoot(t), "docs", "vigil-alerts.schema.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	validate := func(body []byte) []gojsonschema.ResultError {
		res, err := schema.Validate(gojsonschema.NewBytesLoader(body))
		if err != nil {
			t.Fatal(err)
		}
		return res.Errors()
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "webhook.json"))
	if err != nil {
		t.Fatal(err)
	}
	minimal, err := marshal(Body{Alerts: prepare([]Alert{{Reason: ReasonNewImage, ID: "CVE-1"}}, "")})
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"golden": golden, "minimal": minimal, "many": mustMarshal(t, Body{Alerts: manyAlerts(50)})} {
		for _, e := range validate(body) {
			t.Errorf("%s: %s", name, e)
		}
	}
	for name, body := range map[string]string{
		"no alerts":    `{"alerts":[]}`,
		"bad severity": strings.Replace(string(golden), `"severity":"HIGH"`, `"severity":"high"`, 1),
		"bad reason":   strings.Replace(string(golden), `"reason":"new image"`, `"reason":"database update"`, 1),
		"null aliases": strings.Replace(string(golden), `"aliases":[]`, `"aliases":null`, 1),
		"no key":       strings.Replace(string(golden), `"idempotencyKey":"k-openssl",`, ``, 1),
	} {
		if body == string(golden) {
			t.Fatalf("%s: replacement did not apply", name)
		}
		if len(validate([]byte(body))) == 0 {
			t.Errorf("schema accepts %s", name)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
