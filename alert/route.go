package alert

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-scanner/vigil/internal/glob"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/policy"
)

// Route types, the values of Route.Type.
const (
	TypeWebhook = "webhook" // generic JSON webhook, signed when a secret is set
	TypeSlack   = "slack"   // Slack-compatible incoming webhook (Block Kit)
	TypeEmail   = "email"   // email over SMTP
)

// STARTTLS modes, the values of Route.StartTLS.
const (
	// StartTLSRequired fails the delivery when the server does not offer
	// STARTTLS.
	StartTLSRequired = "required"
	// StartTLSOpportunistic upgrades when the server offers STARTTLS and
	// sends in plain text otherwise. The default.
	StartTLSOpportunistic = "opportunistic"
	// StartTLSNone never upgrades.
	StartTLSNone = "none"
)

// Route is one alert destination and the filter choosing what it gets. Its
// YAML and JSON keys are those of an entry of the server configuration's
// "alerts" list; the filter's keys sit beside the route's own.
//
// Secrets are named by environment variable (secretEnv, urlEnv,
// passwordEnv) and resolved by ResolveEnv into fields that are never
// serialised.
type Route struct {
	// Type is one of the Type constants.
	Type string `yaml:"type" json:"type"`
	// Name identifies the route in logs, errors and the alert log;
	// optional.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`

	// URL is where webhook and slack routes POST. URLEnv names an
	// environment variable holding it instead (a Slack webhook URL is
	// itself a secret); ResolveEnv then sets URL from it.
	URL    string `yaml:"url,omitempty" json:"url,omitempty"`
	URLEnv string `yaml:"urlEnv,omitempty" json:"urlEnv,omitempty"`
	// SecretEnv names the environment variable holding a webhook route's
	// HMAC key; Secret is the key itself, set by ResolveEnv. Without a
	// secret, webhook requests are not signed.
	SecretEnv string `yaml:"secretEnv,omitempty" json:"secretEnv,omitempty"`
	Secret    string `yaml:"-" json:"-"`

	// SMTP is an email route's server, "host:port".
	SMTP string `yaml:"smtp,omitempty" json:"smtp,omitempty"`
	// From is the sender address and To the recipients, as RFC 5322
	// addresses ("vigil@example.com", "Security <sec@example.com>").
	From string   `yaml:"from,omitempty" json:"from,omitempty"`
	To   []string `yaml:"to,omitempty" json:"to,omitempty"`
	// Username, with the password from the environment variable named by
	// PasswordEnv (Password, set by ResolveEnv), authenticates with AUTH
	// PLAIN or LOGIN. Credentials are sent only over TLS or to a loopback
	// server.
	Username    string `yaml:"username,omitempty" json:"username,omitempty"`
	PasswordEnv string `yaml:"passwordEnv,omitempty" json:"passwordEnv,omitempty"`
	Password    string `yaml:"-" json:"-"`
	// StartTLS is one of the StartTLS constants; empty means
	// StartTLSOpportunistic.
	StartTLS string `yaml:"starttls,omitempty" json:"starttls,omitempty"`
	// ImplicitTLS connects with TLS from the first byte (SMTPS, usually
	// port 465) instead of STARTTLS.
	ImplicitTLS bool `yaml:"implicitTLS,omitempty" json:"implicitTLS,omitempty"`
	// TLSServerName is the name the server's certificate must carry;
	// default the host of SMTP. TLSCAFile is a PEM file of certificate
	// authorities trusted instead of the system's.
	TLSServerName string `yaml:"tlsServerName,omitempty" json:"tlsServerName,omitempty"`
	TLSCAFile     string `yaml:"tlsCAFile,omitempty" json:"tlsCAFile,omitempty"`

	Filter `yaml:",inline"`
}

// Filter chooses the alerts a route gets. The zero Filter passes every
// alert; each field set narrows it.
type Filter struct {
	// MinSeverity passes alerts at least this severe (one of
	// match.Severities(), any case). UNKNOWN ranks below LOW: a route
	// with minSeverity LOW does not get UNKNOWN alerts.
	MinSeverity string `yaml:"minSeverity,omitempty" json:"minSeverity,omitempty"`
	// FixableOnly passes alerts that have a fixed version.
	FixableOnly bool `yaml:"fixableOnly,omitempty" json:"fixableOnly,omitempty"`
	// KEVOnly passes alerts for known exploited vulnerabilities.
	KEVOnly bool `yaml:"kevOnly,omitempty" json:"kevOnly,omitempty"`
	// MinEPSS passes alerts whose EPSS probability is at least this (0 to
	// 1); an alert without an EPSS score does not pass a MinEPSS above 0.
	// KEVOnly and MinEPSS are alternatives, as the scan gate's --kev and
	// --min-epss are (policy.Filter.Exploited): with both set, an alert
	// known-exploited or likely to be passes.
	MinEPSS float64 `yaml:"minEPSS,omitempty" json:"minEPSS,omitempty"`
	// Repositories passes alerts whose repository, or registry/repository,
	// matches one of these globs ("*" within one path element, "**" across
	// any number: "team/**", "registry.example.com/**").
	Repositories []string `yaml:"repositories,omitempty" json:"repositories,omitempty"`
	// Reasons passes alerts raised for one of these reasons (the Reason
	// constants).
	Reasons []string `yaml:"reasons,omitempty" json:"reasons,omitempty"`
}

// Match reports whether f passes a.
func (f Filter) Match(a Alert) bool {
	if f.MinSeverity != "" && match.SeverityRank(a.Severity) < match.SeverityRank(strings.ToUpper(f.MinSeverity)) {
		return false
	}
	if f.FixableOnly && a.FixedVersion == "" {
		return false
	}
	if !(policy.Filter{KEV: f.KEVOnly, MinEPSS: f.MinEPSS}).Exploited(a.KEV, a.EPSS, a.EPSSPercentile) {
		return false
	}
	if len(f.Reasons) > 0 && !slices.Contains(f.Reasons, a.Reason) {
		return false
	}
	if len(f.Repositories) > 0 {
		full := a.Repository
		if a.Registry != "" {
			full = a.Registry + "/" + a.Repository
		}
		if !slices.ContainsFunc(f.Repositories, func(p string) bool {
			return glob.Match(p, a.Repository) || glob.Match(p, full)
		}) {
			return false
		}
	}
	return true
}

// FieldError is a configuration error in one key of a route.
type FieldError struct {
	Key string // the YAML key: "minSeverity", "to[1]"
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

func fieldErr(key, format string, args ...any) error {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Validate reports every key of r that is missing, malformed or does not
// belong to r's type, as *FieldError values joined with errors.Join. It
// checks the configuration only: secrets named by environment variable are
// checked by ResolveEnv, and nothing is connected to.
func (r Route) Validate() error {
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	notFor := func(key string, set bool) {
		if set {
			add(fieldErr(key, "not used by %s routes", r.Type))
		}
	}
	switch r.Type {
	case TypeWebhook, TypeSlack:
		switch {
		case r.URL == "" && r.URLEnv == "":
			add(fieldErr("url", "required for %s routes (or urlEnv)", r.Type))
		case r.URL != "":
			if err := checkURL(r.URL); err != nil {
				add(fieldErr("url", "%v", err))
			}
		}
		if r.Type == TypeSlack {
			notFor("secretEnv", r.SecretEnv != "")
		}
		notFor("smtp", r.SMTP != "")
		notFor("from", r.From != "")
		notFor("to", len(r.To) > 0)
		notFor("username", r.Username != "")
		notFor("passwordEnv", r.PasswordEnv != "")
		notFor("starttls", r.StartTLS != "")
		notFor("implicitTLS", r.ImplicitTLS)
		notFor("tlsServerName", r.TLSServerName != "")
		notFor("tlsCAFile", r.TLSCAFile != "")
	case TypeEmail:
		if r.SMTP == "" {
			add(fieldErr("smtp", "required for email routes (host:port)"))
		} else if err := checkHostPort(r.SMTP); err != nil {
			add(fieldErr("smtp", "%v", err))
		}
		if r.From == "" {
			add(fieldErr("from", "required for email routes"))
		} else if _, err := parseAddress(r.From); err != nil {
			add(fieldErr("from", "%v", err))
		}
		if len(r.To) == 0 {
			add(fieldErr("to", "required for email routes: at least one recipient"))
		}
		for i, to := range r.To {
			if _, err := parseAddress(to); err != nil {
				add(fieldErr(fmt.Sprintf("to[%d]", i), "%v", err))
			}
		}
		if r.PasswordEnv != "" && r.Username == "" {
			add(fieldErr("passwordEnv", "given without username"))
		}
		switch r.StartTLS {
		case "", StartTLSRequired, StartTLSOpportunistic, StartTLSNone:
		default:
			add(fieldErr("starttls", "%q: want %s, %s or %s", r.StartTLS, StartTLSRequired, StartTLSOpportunistic, StartTLSNone))
		}
		if r.ImplicitTLS && r.StartTLS != "" {
			add(fieldErr("starttls", "not used with implicitTLS"))
		}
		notFor("url", r.URL != "")
		notFor("urlEnv", r.URLEnv != "")
		notFor("secretEnv", r.SecretEnv != "")
	case "":
		add(fieldErr("type", "required: %s, %s or %s", TypeWebhook, TypeSlack, TypeEmail))
	default:
		add(fieldErr("type", "%q: want %s, %s or %s", r.Type, TypeWebhook, TypeSlack, TypeEmail))
	}
	if err := r.Filter.validate(); err != nil {
		add(err)
	}
	return errors.Join(errs...)
}

func (f Filter) validate() error {
	var errs []error
	if f.MinSeverity != "" && !slices.Contains(match.Severities(), strings.ToUpper(f.MinSeverity)) {
		errs = append(errs, fieldErr("minSeverity", "%q: want one of %s", f.MinSeverity, strings.Join(match.Severities(), ", ")))
	}
	if math.IsNaN(f.MinEPSS) || f.MinEPSS < 0 || f.MinEPSS > 1 {
		errs = append(errs, fieldErr("minEPSS", "%v: want a probability from 0 to 1", f.MinEPSS))
	}
	for i, p := range f.Repositories {
		if err := glob.Validate(p); err != nil {
			errs = append(errs, fieldErr(fmt.Sprintf("repositories[%d]", i), "%v", err))
		}
	}
	for i, r := range f.Reasons {
		if !slices.Contains(Reasons(), r) {
			errs = append(errs, fieldErr(fmt.Sprintf("reasons[%d]", i), "%q: want %q, %q or %q", r, ReasonNewImage, ReasonNewAdvisory, ReasonRebuiltTag))
		}
	}
	return errors.Join(errs...)
}

// ResolveEnv sets URL, Secret and Password from the environment variables
// named by URLEnv, SecretEnv and PasswordEnv, looked up with lookup (pass
// os.LookupEnv). A named variable that is unset or empty is an error
// naming the key and the variable.
func (r *Route) ResolveEnv(lookup func(string) (string, bool)) error {
	var errs []error
	resolve := func(key, name string, dst *string) {
		if name == "" {
			return
		}
		v, ok := lookup(name)
		switch {
		case !ok:
			errs = append(errs, fieldErr(key, "environment variable %s is not set", name))
		case v == "":
			errs = append(errs, fieldErr(key, "environment variable %s is empty", name))
		default:
			*dst = v
		}
	}
	resolve("urlEnv", r.URLEnv, &r.URL)
	resolve("secretEnv", r.SecretEnv, &r.Secret)
	resolve("passwordEnv", r.PasswordEnv, &r.Password)
	return errors.Join(errs...)
}

// label names the route in errors and logs without its secrets: the name,
// or the type and the destination's host.
func (r Route) label() string {
	if r.Name != "" {
		return fmt.Sprintf("%s route %q", r.Type, r.Name)
	}
	dest := r.SMTP
	if r.Type != TypeEmail {
		dest = redactURL(r.URL)
	}
	return fmt.Sprintf("%s route %s", r.Type, dest)
}

// redactURL keeps a URL's scheme and host: the path and query of a webhook
// URL may hold a token (Slack's always do).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(url)"
	}
	return u.Scheme + "://" + u.Host
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error repeats the URL, which may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	return nil
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q: want host:port", s)
	}
	if host == "" {
		return fmt.Errorf("%q: no host", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 1 to 65535", s, port)
	}
	return nil
}

// parseAddress parses one RFC 5322 address, refusing anything that could
// end a header line.
func parseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n\x00") {
		return nil, fmt.Errorf("%q: line breaks are not allowed in an address", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %v", s, err)
	}
	return a, nil
}
