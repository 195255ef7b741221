package alert

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestRouteYAML(t *testing.T) {
	// The alerts section of the example configuration, and one
	// route of each type with every key.
	const config = `
alerts:
  - type: webhook
    url: http://127.0.0.1:9000/hook
    minSeverity: UNKNOWN
  - type: webhook
    name: siem
    url: https://siem.example.com/vigil
    secretEnv: VIGIL_HOOK_SECRET
    minSeverity: high
    fixableOnly: true
    kevOnly: true
    minEPSS: 0.1
    repositories: ["team/**", "registry.example.com/base"]
    reasons: ["new advisory", "rebuilt tag"]
  - type: slack
    name: sec-channel
    urlEnv: SLACK_WEBHOOK_URL
    minSeverity: CRITICAL
  - type: email
    name: security-team
    smtp: mail.example.com:587
    from: "vigil <vigil@example.com>"
    to: [sec@example.com, "On Call <oncall@example.com>"]
    username: vigil
    passwordEnv: SMTP_PASSWORD
    starttls: required
    tlsServerName: mail.example.com
    tlsCAFile: /etc/ssl/internal-ca.pem
`
	var cfg struct {
		Alerts []Route `yaml:"alerts"`
	}
	dec := yaml.NewDecoder(strings.NewReader(config))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Alerts) != 4 {
		t.Fatalf("%d routes, want 4", len(cfg.Alerts))
	}
	for i, r := range cfg.Alerts {
		if err := r.Validate(); err != nil {
			t.Errorf("alerts[%d]: %v", i, err)
		}
	}
	w := cfg.Alerts[1]
	if w.Name != "siem" || w.SecretEnv != "VIGIL_HOOK_SECRET" || w.MinSeverity != "high" || !w.FixableOnly || !w.KEVOnly ||
		w.MinEPSS != 0.1 || len(w.Repositories) != 2 || len(w.Reasons) != 2 {
		t.Errorf("webhook route decoded as %+v", w)
	}
	e := cfg.Alerts[3]
	if e.SMTP != "mail.example.com:587" || len(e.To) != 2 || e.StartTLS != StartTLSRequired || e.PasswordEnv != "SMTP_PASSWORD" ||
		e.TLSServerName != "mail.example.com" || e.TLSCAFile != "/etc/ssl/internal-ca.pem" {
		t.Errorf("email route decoded as %+v", e)
	}

	// An unknown key is an error with KnownFields, inline filter or not.
	dec = yaml.NewDecoder(strings.NewReader("alerts: [{type: webhook, url: http://x, minSeverty: HIGH}]"))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err == nil || !strings.Contains(err.Error(), "minSeverty") {
		t.Errorf("misspelt key: err = %v", err)
	}
}

func TestRouteJSONHidesSecrets(t *testing.T) {
	r := Route{Type: TypeEmail, Password: "hunter2", Secret: "s3cret", PasswordEnv: "P"}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := yaml.Marshal(r)
	for _, s := range []string{string(b), string(out)} {
		if strings.Contains(s, "hunter2") || strings.Contains(s, "s3cret") {
			t.Errorf("serialised route holds a secret: %s", s)
		}
	}
}

func TestValidate(t *testing.T) {
	hook := Route{Type: TypeWebhook, URL: "https://hooks.example.com/x"}
	mail := Route{Type: TypeEmail, SMTP: "mail.example.com:587", From: "vigil@example.com", To: []string{"sec@example.com"}}
	with := func(r Route, f func(*Route)) Route { f(&r); return r }
	tests := []struct {
		name  string
		route Route
		keys  []string // keys the error must name; none: valid
		text  string   // and a phrase it must hold
	}{
		{"webhook", hook, nil, ""},
		{"webhook urlEnv", Route{Type: TypeWebhook, URLEnv: "HOOK"}, nil, ""},
		{"slack", Route{Type: TypeSlack, URL: "https://hooks.slack.com/services/T/B/X"}, nil, ""},
		{"email", mail, nil, ""},
		{"email full", with(mail, func(r *Route) {
			r.Username, r.PasswordEnv, r.StartTLS, r.To = "u", "P", StartTLSNone, []string{"a@b.example", "Sec Team <s@b.example>"}
		}), nil, ""},
		{"email implicit TLS", with(mail, func(r *Route) { r.ImplicitTLS = true; r.SMTP = "mail.example.com:465" }), nil, ""},
		{"no type", Route{}, []string{"type"}, "required"},
		{"bad type", Route{Type: "pager"}, []string{"type"}, `"pager"`},
		{"webhook without url", Route{Type: TypeWebhook}, []string{"url"}, "required"},
		{"ftp url", with(hook, func(r *Route) { r.URL = "ftp://x/y" }), []string{"url"}, `"ftp"`},
		{"relative url", with(hook, func(r *Route) { r.URL = "/hook" }), []string{"url"}, ""},
		{"bad url", with(hook, func(r *Route) { r.URL = "http://[::1/x?token=abc" }), []string{"url"}, ""},
		{"slack secret", Route{Type: TypeSlack, URL: "https://x", SecretEnv: "S"}, []string{"secretEnv"}, "not used"},
		{"webhook with smtp", with(hook, func(r *Route) { r.SMTP = "x:25"; r.To = []string{"a@b"} }), []string{"smtp", "to"}, "not used by webhook"},
		{"email without anything", Route{Type: TypeEmail}, []string{"smtp", "from", "to"}, "required"},
		{"smtp without port", with(mail, func(r *Route) { r.SMTP = "mail.example.com" }), []string{"smtp"}, "host:port"},
		{"smtp port 0", with(mail, func(r *Route) { r.SMTP = "mail.example.com:0" }), []string{"smtp"}, "port"},
		{"bad from", with(mail, func(r *Route) { r.From = "not an address" }), []string{"from"}, ""},
		{"header injection in to", with(mail, func(r *Route) { r.To = []string{"a@b.example", "x@y.example\r\nBcc: evil@z.example"} }), []string{"to[1]"}, "line breaks"},
		{"password without user", with(mail, func(r *Route) { r.PasswordEnv = "P" }), []string{"passwordEnv"}, "username"},
		{"bad starttls", with(mail, func(r *Route) { r.StartTLS = "always" }), []string{"starttls"}, `"always"`},
		{"implicit and starttls", with(mail, func(r *Route) { r.ImplicitTLS, r.StartTLS = true, StartTLSRequired }), []string{"starttls"}, "implicitTLS"},
		{"email with url", with(mail, func(r *Route) { r.URL = "https://x" }), []string{"url"}, "not used by email"},
		{"bad severity", with(hook, func(r *Route) { r.MinSeverity = "SEVERE" }), []string{"minSeverity"}, "CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN"},
		{"epss over 1", with(hook, func(r *Route) { r.MinEPSS = 1.5 }), []string{"minEPSS"}, "0 to 1"},
		{"epss NaN", with(hook, func(r *Route) { r.MinEPSS = math.NaN() }), []string{"minEPSS"}, ""},
		{"bad glob", with(hook, func(r *Route) { r.Repositories = []string{"ok/*", "team/[x"} }), []string{"repositories[1]"}, "team/[x"},
		{"bad reason", with(hook, func(r *Route) { r.Reasons = []string{"new images"} }), []string{"reasons[0]"}, `"new images"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.route.Validate()
			if len(tt.keys) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %v", tt.keys)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Key != tt.keys[0] {
				t.Errorf("first FieldError = %v, want key %q", fe, tt.keys[0])
			}
			for _, k := range tt.keys {
				if !strings.Contains(err.Error(), k+": ") {
					t.Errorf("error %q does not name %q", err, k)
				}
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
			if strings.Contains(err.Error(), "token=abc") {
				t.Errorf("error %q repeats the URL's token", err)
			}
		})
	}
}

func TestResolveEnv(t *testing.T) {
	env := map[string]string{"HOOK_URL": "https://hooks.example.com/T/B/X", "HOOK_SECRET": "s3cret", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	r := Route{Type: TypeWebhook, URLEnv: "HOOK_URL", SecretEnv: "HOOK_SECRET"}
	if _, err := NewSender(r, Options{}); err == nil || !strings.Contains(err.Error(), "urlEnv") {
		t.Errorf("NewSender before ResolveEnv: err = %v, want one naming urlEnv", err)
	}
	if err := r.ResolveEnv(lookup); err != nil {
		t.Fatal(err)
	}
	if r.URL != env["HOOK_URL"] || r.Secret != "s3cret" {
		t.Errorf("resolved %+v", r)
	}
	if _, err := NewSender(r, Options{}); err != nil {
		t.Errorf("NewSender after ResolveEnv: %v", err)
	}

	bad := Route{Type: TypeEmail, SecretEnv: "NOPE", PasswordEnv: "EMPTY"}
	err := bad.ResolveEnv(lookup)
	if err == nil || !strings.Contains(err.Error(), "secretEnv: environment variable NOPE is not set") ||
		!strings.Contains(err.Error(), "passwordEnv: environment variable EMPTY is empty") {
		t.Errorf("ResolveEnv = %v", err)
	}
}

func TestFilterMatch(t *testing.T) {
	base := Alert{
		Reason: ReasonNewAdvisory, Registry: "registry.example.com", Repository: "team/app",
		Severity: "HIGH", FixedVersion: "1.2.3", KEV: true, EPSS: 0.3,
	}
	with := func(f func(*Alert)) Alert { a := base; f(&a); return a }
	tests := []struct {
		name   string
		filter Filter
		alert  Alert
		want   bool
	}{
		{"zero filter", Filter{}, base, true},
		{"zero filter unknown", Filter{}, with(func(a *Alert) { a.Severity = "UNKNOWN" }), true},
		{"min HIGH on HIGH", Filter{MinSeverity: "HIGH"}, base, true},
		{"min high (any case)", Filter{MinSeverity: "high"}, base, true},
		{"min CRITICAL on HIGH", Filter{MinSeverity: "CRITICAL"}, base, false},
		{"min UNKNOWN passes all", Filter{MinSeverity: "UNKNOWN"}, with(func(a *Alert) { a.Severity = "UNKNOWN" }), true},
		{"min LOW drops UNKNOWN", Filter{MinSeverity: "LOW"}, with(func(a *Alert) { a.Severity = "UNKNOWN" }), false},
		{"fixable", Filter{FixableOnly: true}, base, true},
		{"fixable, no fix", Filter{FixableOnly: true}, with(func(a *Alert) { a.FixedVersion = "" }), false},
		{"kev", Filter{KEVOnly: true}, base, true},
		{"kev, not in KEV", Filter{KEVOnly: true}, with(func(a *Alert) { a.KEV = false }), false},
		{"epss at threshold", Filter{MinEPSS: 0.3}, base, true},
		{"epss below", Filter{MinEPSS: 0.31}, base, false},
		{"epss unscored", Filter{MinEPSS: 0.01}, with(func(a *Alert) { a.EPSS = 0 }), false},
		// As the scan gate's: known-exploited or likely to be.
		{"kev or epss: likely", Filter{KEVOnly: true, MinEPSS: 0.2}, with(func(a *Alert) { a.KEV = false }), true},
		{"kev or epss: known", Filter{KEVOnly: true, MinEPSS: 0.5}, base, true},
		{"kev or epss: neither", Filter{KEVOnly: true, MinEPSS: 0.5}, with(func(a *Alert) { a.KEV = false }), false},
		{"repo glob", Filter{Repositories: []string{"team/*"}}, base, true},
		{"repo glob with registry", Filter{Repositories: []string{"registry.example.com/**"}}, base, true},
		{"repo ** nested", Filter{Repositories: []string{"team/**"}}, with(func(a *Alert) { a.Repository = "team/sub/app" }), true},
		{"repo * does not cross /", Filter{Repositories: []string{"*"}}, base, false},
		{"repo no match", Filter{Repositories: []string{"other/*", "team"}}, base, false},
		{"reason", Filter{Reasons: []string{ReasonNewAdvisory}}, base, true},
		{"reason other", Filter{Reasons: []string{ReasonNewImage, ReasonRebuiltTag}}, base, false},
		{"all at once", Filter{MinSeverity: "MEDIUM", FixableOnly: true, KEVOnly: true, MinEPSS: 0.2,
			Repositories: []string{"team/app"}, Reasons: []string{ReasonNewAdvisory}}, base, true},
		{"all but one", Filter{MinSeverity: "MEDIUM", FixableOnly: true, KEVOnly: true, MinEPSS: 0.2,
			Repositories: []string{"team/app"}, Reasons: []string{ReasonNewImage}}, base, false},
	}
	for _, tt := range tests {
		if got := tt.filter.Match(tt.alert); got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, got, tt.want)
		}
	}
}
