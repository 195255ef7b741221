package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Sender delivers alerts to one route.
type Sender interface {
	// Send delivers alerts as one message (one request, one email) and
	// returns nil once the receiver accepted it. It makes one attempt;
	// IsPermanent and RetryAfter classify a failure. Sending no alerts
	// does nothing.
	Send(ctx context.Context, alerts []Alert) error
}

// Options are what a Sender needs beyond its Route.
type Options struct {
	// Client makes webhook and Slack requests; default
	// http.DefaultClient. The Sender does not follow redirects, whatever
	// the client's policy: a redirected POST may lose its body.
	Client *http.Client
	// Now is the clock for signature timestamps and email dates; default
	// time.Now.
	Now func() time.Time
	// Logger receives one record per delivery; default discards.
	Logger *slog.Logger
	// DashboardURL is the base URL of vigil's dashboard; when set,
	// messages link each image to DashboardURL/images/{digest}.
	DashboardURL string
	// Version is vigil's version, sent in the User-Agent
	// ("vigil/VERSION") and email headers; default "dev".
	Version string
	// Timeout bounds one Send; default 30s. A deadline in Send's context
	// that comes sooner wins.
	Timeout time.Duration
	// HeloName is the name given in SMTP's EHLO; default "localhost".
	HeloName string
}

func (o Options) withDefaults() Options {
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.HeloName == "" {
		o.HeloName = "localhost"
	}
	return o
}

func (o Options) userAgent() string { return "vigil/" + o.Version }

// NewSender returns the Sender for route, which must be valid
// (Route.Validate) and have its secrets resolved (Route.ResolveEnv).
// Building a sender connects to nothing; an email route's CA file is read
// here.
func NewSender(route Route, opts Options) (Sender, error) {
	if err := route.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", route.label(), err)
	}
	if err := checkResolved(route); err != nil {
		return nil, fmt.Errorf("%s: %w", route.label(), err)
	}
	opts = opts.withDefaults()
	switch route.Type {
	case TypeWebhook:
		return newWebhook(route, opts), nil
	case TypeSlack:
		return newSlack(route, opts), nil
	case TypeEmail:
		return newEmail(route, opts)
	}
	return nil, fmt.Errorf("%s: no sender for type %q", route.label(), route.Type) // Validate refused it already
}

// checkResolved reports a secret named by environment variable that
// ResolveEnv has not filled.
func checkResolved(r Route) error {
	switch {
	case r.URLEnv != "" && r.URL == "":
		return fieldErr("urlEnv", "%s not resolved (Route.ResolveEnv)", r.URLEnv)
	case r.SecretEnv != "" && r.Secret == "":
		return fieldErr("secretEnv", "%s not resolved (Route.ResolveEnv)", r.SecretEnv)
	case r.PasswordEnv != "" && r.Password == "":
		return fieldErr("passwordEnv", "%s not resolved (Route.ResolveEnv)", r.PasswordEnv)
	}
	return nil
}

// sendError is a failed delivery, with how the caller should treat it.
type sendError struct {
	route      string
	permanent  bool
	retryAfter time.Duration
	hasRetry   bool
	err        error
}

func (e *sendError) Error() string { return e.route + ": " + e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// IsPermanent reports whether err is a failure that sending the same
// alerts again will not mend: an HTTP 4xx other than 408 and 429, an
// unfollowed redirect, an SMTP 5xx reply (a rejected address, failed
// authentication), or a server that does not offer the TLS the route
// requires. A caller parks such a delivery and shows it instead of
// retrying. Every other error (network failures, timeouts, 408, 429, 5xx,
// SMTP 4xx) is transient.
func IsPermanent(err error) bool {
	var se *sendError
	return errors.As(err, &se) && se.permanent
}

// RetryAfter returns the wait a receiver asked for with a 429 or 503
// response's Retry-After header (delay-seconds or an HTTP date, relative to
// Options.Now; a date in the past is zero), as httpx.RetryAfter reads it:
// the receiver's value, at most a year; the caller's backoff policy bounds
// it further.
func RetryAfter(err error) (time.Duration, bool) {
	var se *sendError
	if errors.As(err, &se) && se.hasRetry {
		return se.retryAfter, true
	}
	return 0, false
}
