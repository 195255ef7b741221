// Package httpx is the HTTP plumbing shared by feed downloads
// (vulndb/fetch) and registry calls (vulndb/oci, registry): a transport
// whose every phase has a timeout, a watchdog on response bodies that stop
// flowing, and rate-limit (429) handling that honours Retry-After; and,
// for vigil's own server and dashboard, FromLoopback.
package httpx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Timeouts of one HTTP exchange. A whole operation is bounded by its
// context; these bound each phase so that a server that stops answering
// is noticed long before that.
const (
	DialTimeout           = 30 * time.Second
	TLSHandshakeTimeout   = 15 * time.Second
	ResponseHeaderTimeout = 60 * time.Second
	// StallTimeout is how long a response body may deliver nothing before
	// the request is abandoned.
	StallTimeout = 60 * time.Second
)

// NewTransport returns a transport with the timeouts above; insecure skips
// TLS verification (self-signed mirrors).
func NewTransport(insecure bool) *http.Transport {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   TLSHandshakeTimeout,
		ResponseHeaderTimeout: ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for with --insecure
	}
	return t
}

// RateLimitError reports a 429 answer whose Retry-After was longer than
// the caller is willing to wait.
type RateLimitError struct {
	Host       string
	RetryAfter time.Duration // 0 when the server named no time
}

func (e *RateLimitError) Error() string {
	msg := fmt.Sprintf("%s answered 429 Too Many Requests (rate limited)", e.Host)
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf("; it asks to retry after %s", e.RetryAfter.Round(time.Second))
	}
	return msg
}

// MaxRetryAfter bounds what RetryAfter returns: a server asking for more
// than a year is taken to ask for a year.
const MaxRetryAfter = 365 * 24 * time.Hour

// RetryAfter parses a Retry-After header (RFC 9110 10.2.3: delay-seconds,
// or an HTTP date) into a duration from now, at most MaxRetryAfter; a date
// in the past is zero. ok is false when the header is absent or malformed.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange):
			return MaxRetryAfter, true // digits only, too many of them
		case err != nil:
			return 0, false
		}
		return time.Duration(min(secs, uint64(MaxRetryAfter/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), MaxRetryAfter), true
	}
	return 0, false
}

// Backoff is the wait before retry attempt n (1, 2, …): 1 s, 2 s, 4 s, …
// capped at 30 s, unless the response named a Retry-After.
func Backoff(attempt int, resp *http.Response, now time.Time) time.Duration {
	if resp != nil {
		if d, ok := RetryAfter(resp.Header, now); ok {
			return d
		}
	}
	return min(time.Duration(1<<min(attempt-1, 5))*time.Second, 30*time.Second)
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// Transport wraps a RoundTripper for registry calls:
//   - a 429 answer is retried after its Retry-After (or a backoff) when
//     that is at most MaxWait and the request can be replayed, up to
//     Retries times; otherwise it fails with *RateLimitError, and every
//     later request to that host fails the same way at once, so one
//     rate-limited registry costs one request and the caller can move on to
//     a mirror;
//   - a response body that delivers nothing for StallTimeout is cut.
type Transport struct {
	Base    http.RoundTripper
	MaxWait time.Duration // 0 means 30 s
	Retries int           // 0 means 3
	Logger  *slog.Logger
	// Stall overrides StallTimeout (tests).
	Stall time.Duration

	mu      sync.Mutex
	limited map[string]*RateLimitError
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	t.mu.Lock()
	rl := t.limited[host]
	t.mu.Unlock()
	if rl != nil {
		return nil, rl
	}
	maxWait, retries := t.MaxWait, t.Retries
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	if retries <= 0 {
		retries = 3
	}
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithCancelCause(req.Context())
		resp, err := t.Base.RoundTrip(req.WithContext(ctx))
		if err != nil {
			cancel(nil)
			return nil, err
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			resp.Body = watch(resp.Body, cancel, t.stall())
			return resp, nil
		}
		wait, named := RetryAfter(resp.Header, time.Now())
		drain(resp.Body)
		cancel(nil)
		if !named {
			wait = Backoff(attempt, nil, time.Now())
		}
		replayable := req.Body == nil || req.GetBody != nil
		if wait > maxWait || attempt > retries || !replayable {
			e := &RateLimitError{Host: host}
			if named {
				e.RetryAfter = wait
			}
			t.mu.Lock()
			if t.limited == nil {
				t.limited = map[string]*RateLimitError{}
			}
			t.limited[host] = e
			t.mu.Unlock()
			return nil, e
		}
		if t.Logger != nil {
			t.Logger.Warn("registry rate limit: waiting as asked", "host", host, "wait", wait.Round(time.Millisecond), "attempt", attempt)
		}
		if err := Sleep(req.Context(), wait); err != nil {
			return nil, err
		}
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}

func (t *Transport) stall() time.Duration {
	if t.Stall > 0 {
		return t.Stall
	}
	return StallTimeout
}

func drain(body io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}

// ErrStalled is the cause of a request cut because its body stopped.
var ErrStalled = errors.New("no data received for too long (stalled transfer)")

// watch wraps body so that a read that waits longer than d cancels the
// request, and closing the body releases the request's context.
func watch(body io.ReadCloser, cancel context.CancelCauseFunc, d time.Duration) io.ReadCloser {
	w := &watchedBody{body: body, cancel: cancel, d: d}
	w.timer = time.AfterFunc(d, func() {
		w.stalled.Store(true)
		cancel(fmt.Errorf("%w (%s)", ErrStalled, d))
	})
	return w
}

type watchedBody struct {
	body    io.ReadCloser
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	d       time.Duration
	stalled atomic.Bool
}

func (w *watchedBody) Read(p []byte) (int, error) {
	n, err := w.body.Read(p)
	if n > 0 {
		w.timer.Reset(w.d)
	}
	if err != nil && err != io.EOF && w.stalled.Load() {
		err = fmt.Errorf("%w (%s): %w", ErrStalled, w.d, err)
	}
	return n, err
}

func (w *watchedBody) Close() error {
	w.timer.Stop()
	err := w.body.Close()
	w.cancel(nil)
	return err
}

// WatchBody cuts a response body (of a request made with ctx cancel)
// that delivers nothing for d; for clients that do not use Transport.
func WatchBody(body io.ReadCloser, cancel context.CancelCauseFunc, d time.Duration) io.ReadCloser {
	return watch(body, cancel, d)
}

// FromLoopback reports whether r came from this machine (its remote
// address is a loopback IP): the server and the dashboard accept tokens and
// sessions over plain HTTP only from there.
func FromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
