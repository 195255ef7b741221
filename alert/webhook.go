package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-scanner/vigil/internal/httpx"
)

// Webhook request headers.
const (
	// HeaderTimestamp carries the Unix time, in seconds, at which the
	// request was signed.
	HeaderTimestamp = "X-Vigil-Timestamp"
	// HeaderSignature carries "sha256=" and the hex HMAC-SHA256, keyed
	// with the route's secret, of the timestamp, a ".", and the body.
	HeaderSignature = "X-Vigil-Signature"
	// HeaderIdempotencyKey carries BatchKey of the request's alerts: the
	// same alerts sent again carry the same key.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// Body is a webhook request's JSON body.
type Body struct {
	Alerts []Alert `json:"alerts"`
}

// Sign returns the X-Vigil-Signature value for body sent at timestamp (the
// X-Vigil-Timestamp value, decimal Unix seconds).
func Sign(secret, timestamp string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verification errors.
var (
	// ErrSignature: the signature is missing, malformed, or not the
	// body's under the secret.
	ErrSignature = errors.New("webhook signature does not match")
	// ErrTimestamp: the timestamp is missing, malformed, or further than
	// the allowed skew from now (a replayed or delayed request).
	ErrTimestamp = errors.New("webhook timestamp out of range")
)

// Verify checks a webhook request as its receiver gets it: timestamp and
// signature are the X-Vigil-Timestamp and X-Vigil-Signature header values
// and body the raw request body, read before any JSON decoding. It returns
// nil when the signature is body's under secret and the timestamp is within
// maxSkew of the receiver's clock; maxSkew of zero or less skips the clock
// check (not recommended: it lets a captured request be replayed). A
// receiver should also remember the Idempotency-Key header or each alert's
// idempotencyKey to drop deliveries it has already handled.
//
// The comparison is constant-time. Errors wrap ErrSignature or
// ErrTimestamp.
func Verify(secret, timestamp string, body []byte, signature string, maxSkew time.Duration) error {
	ts, err := parseTimestamp(timestamp)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	hexSig, ok := strings.CutPrefix(signature, "sha256=")
	if !ok {
		return fmt.Errorf("%w: want \"sha256=<hex>\"", ErrSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: not a hex SHA-256", ErrSignature)
	}
	if !hmac.Equal(got, mac(secret, timestamp, body)) {
		return ErrSignature
	}
	if maxSkew > 0 {
		skew := time.Since(time.Unix(ts, 0))
		if skew > maxSkew || -skew > maxSkew {
			return fmt.Errorf("%w: signed %v away from now, more than %v", ErrTimestamp, skew.Round(time.Second), maxSkew)
		}
	}
	return nil
}

// parseTimestamp reads decimal Unix seconds, digits only.
func parseTimestamp(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("missing")
	}
	if len(s) > 12 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not Unix seconds", truncate(s, 20))
	}
	return strconv.ParseInt(s, 10, 64)
}

type webhook struct {
	route  Route
	opts   Options
	client *http.Client
}

func newWebhook(route Route, opts Options) *webhook {
	return &webhook{route: route, opts: opts, client: noRedirects(opts.Client)}
}

// noRedirects returns a copy of c that returns 3xx responses instead of
// following them.
func noRedirects(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

func (w *webhook) Send(ctx context.Context, alerts []Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	alerts = prepare(alerts, w.opts.DashboardURL)
	body, err := marshal(Body{Alerts: alerts})
	if err != nil {
		return &sendError{route: w.route.label(), permanent: true, err: err}
	}
	h := http.Header{}
	h.Set(HeaderIdempotencyKey, BatchKey(alerts))
	if w.route.Secret != "" {
		ts := strconv.FormatInt(w.opts.Now().Unix(), 10)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, Sign(w.route.Secret, ts, body))
	}
	return post(ctx, w.client, w.route, w.opts, body, h, len(alerts))
}

// marshal encodes v as JSON without HTML escaping, so "<" stays readable.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding alerts: %w", err)
	}
	return b.Bytes(), nil
}

// post makes one JSON POST to route.URL and classifies its outcome.
func post(ctx context.Context, client *http.Client, route Route, opts Options, body []byte, h http.Header, n int) error {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	label := route.label()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, route.URL, bytes.NewReader(body))
	if err != nil {
		return &sendError{route: label, permanent: true, err: errors.New("cannot build request: check url")}
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", opts.userAgent())
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		// url.Error repeats the URL, which may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s %s: %w", ue.Op, redactURL(ue.URL), ue.Err)
		}
		opts.Logger.WarnContext(ctx, "alert delivery failed", "route", label, "alerts", n, "err", err)
		return &sendError{route: label, err: err}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	code := resp.StatusCode
	opts.Logger.InfoContext(ctx, "alert delivery", "route", label, "alerts", n, "bytes", len(body),
		"status", code, "duration", time.Since(start).Round(time.Millisecond))
	if code/100 == 2 {
		return nil
	}
	se := &sendError{route: label, err: statusError(resp, snippet)}
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
	default: // 1xx, 3xx not followed, other 4xx
		se.permanent = true
	}
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		se.retryAfter, se.hasRetry = httpx.RetryAfter(resp.Header, opts.Now())
	}
	return se
}

// statusError describes a non-2xx response with the start of its body,
// where receivers say what was wrong ("invalid_blocks").
func statusError(resp *http.Response, body []byte) error {
	msg := "status " + resp.Status
	if resp.StatusCode/100 == 3 {
		msg += " (redirects are not followed: configure the final URL)"
	}
	if s := printable(body, 200); s != "" {
		msg += ": " + s
	}
	return errors.New(msg)
}

// printable is up to n runes of b as one line of printable text.
func printable(b []byte, n int) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError:
			return -1
		case unicode.IsSpace(r):
			return ' '
		case !unicode.IsPrint(r):
			return -1
		}
		return r
	}, string(b))
	return truncate(strings.Join(strings.Fields(s), " "), n)
}

// truncate cuts s to at most n runes, ending in "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
