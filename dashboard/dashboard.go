// Package dashboard is the web interface `vigil server` serves beside its
// JSON API: server-rendered HTML pages over the store — registries and
// repositories with their open findings, images with their findings, the
// layer and Dockerfile instruction that brought each package and the
// history of their tags, the images a vulnerability affects, the alert log
// and a trend of open findings. Every page works without JavaScript and
// without a mouse; the one script only adds a keyboard and pointer
// readout to the trend chart.
//
// With tokens configured, a browser logs in once with a token: the
// dashboard keeps a session in the store and the browser an HttpOnly,
// SameSite=Strict cookie naming it (Secure over TLS). The token itself is
// never put in a URL, a cookie or a log.
package dashboard

import (
	"cmp"
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/vigil-scanner/vigil/internal/httpx"
	"github.com/vigil-scanner/vigil/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Token is a configured API token as the dashboard sees it: never the
// secret, only a public identity and a name.
type Token struct {
	// ID identifies the token among the configured ones and changes when
	// the token does (a hash of its stored hash, say).
	ID   string
	Name string
}

// Tokens checks logins. The server implements it over its configured
// tokens; any token that may read the API may read the dashboard.
type Tokens interface {
	// Check returns the configured token whose secret is raw.
	Check(raw string) (Token, bool)
	// Valid reports whether the token with id is still configured;
	// sessions of a removed token end.
	Valid(id string) bool
}

// Database is the vulnerability database the server matches with.
type Database struct {
	Digest  string
	BuiltAt time.Time
}

// Options configure a Dashboard.
type Options struct {
	Store *store.Store
	// Tokens checks logins; nil serves every page without a login (the
	// server's "auth: none", loopback only).
	Tokens Tokens
	// AllowPlainHTTP accepts logins and sessions over plain HTTP from
	// clients other than loopback ones (behind a TLS-terminating proxy),
	// as the API's allowPlainHTTPTokens does for tokens.
	AllowPlainHTTP bool
	// Database returns the database in use; nil shows none.
	Database func() Database
	// Version is vigil's version, shown in the footer.
	Version string
	// SessionTTL is how long a login lasts; zero means 12 hours.
	SessionTTL time.Duration
	// TrendDays is how many days the trend chart shows; zero means 90.
	TrendDays int
	// Logger receives errors; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Dashboard serves the pages.
type Dashboard struct {
	opts      Options
	st        *store.Store
	log       *slog.Logger
	pages     map[string]*template.Template
	static    http.Handler
	csrf      *http.CrossOriginProtection
	refreshMu sync.Mutex
	optimized time.Time // guarded by refreshMu

	// summaries are the last summaries made, by registry ("" for all),
	// kept while the store's summary stamp is unchanged.
	sumMu     sync.Mutex
	summaries map[string]cachedSummary
}

type cachedSummary struct {
	stamp string
	sum   *store.Summary
}

// CookieName is the session cookie.
const CookieName = "vigil_session"

// New parses the templates and returns a dashboard.
func New(opts Options) (*Dashboard, error) {
	if opts.Store == nil {
		return nil, errors.New("dashboard: no store")
	}
	opts.SessionTTL = cmp.Or(opts.SessionTTL, 12*time.Hour)
	opts.TrendDays = cmp.Or(opts.TrendDays, 90)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Database == nil {
		opts.Database = func() Database { return Database{} }
	}
	d := &Dashboard{opts: opts, st: opts.Store, log: cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
		pages: map[string]*template.Template{}, csrf: http.NewCrossOriginProtection()}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		page := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if page == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		d.pages[page] = t
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	d.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	return d, nil
}

// Register adds the dashboard's routes to mux: "/", "/registries/…",
// "/repositories/…", "/images", "/images/{digest}" (the link alerts
// carry), "/vulnerabilities/…", "/alerts", "/login", "/logout" and
// "/static/…".
func (d *Dashboard) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", d.page(d.overview))
	mux.Handle("GET /registries/{registry}", d.page(d.registry))
	mux.Handle("GET /repositories/{name...}", d.page(d.repository))
	mux.Handle("GET /images", d.page(d.imageList))
	mux.Handle("GET /images/{digest}", d.page(d.image))
	mux.Handle("GET /vulnerabilities", d.page(d.vulnSearch))
	mux.Handle("GET /vulnerabilities/{id}", d.page(d.vulnerability))
	mux.Handle("GET /alerts", d.page(d.alerts))
	mux.HandleFunc("GET /login", d.loginForm)
	mux.Handle("POST /login", d.csrf.Handler(http.HandlerFunc(d.login)))
	mux.Handle("POST /logout", d.csrf.Handler(http.HandlerFunc(d.logout)))
	mux.Handle("GET /static/", d.headers(d.static))
}

// Handler returns the dashboard alone on a mux of its own.
func (d *Dashboard) Handler() http.Handler {
	mux := http.NewServeMux()
	d.Register(mux)
	return mux
}

// headers sets the security headers every answer carries.
func (d *Dashboard) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

// view is what every page's layout shows.
type view struct {
	Title    string
	Nav      string // the navigation entry of the page
	User     string // the logged-in token's name; empty without auth
	Auth     bool
	Version  string
	Database Database
	Data     any
}

// errStatus is an error with the status to answer.
type errStatus struct {
	code int
	msg  string
}

func (e *errStatus) Error() string { return e.msg }

func notFound(format string, args ...any) error {
	return &errStatus{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

// pageFunc fills v (Title, Nav, Data) and returns the template to render.
type pageFunc func(r *http.Request, v *view) (string, error)

// page authenticates the request, runs fn and renders its page.
func (d *Dashboard) page(fn pageFunc) http.Handler {
	return d.headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := &view{Version: d.opts.Version, Database: d.opts.Database(), Auth: d.opts.Tokens != nil}
		if d.opts.Tokens != nil {
			if !d.transportOK(r) {
				d.render(w, http.StatusForbidden, "error", &view{Title: "HTTPS required", Version: v.Version, Data: errorData{
					"The dashboard accepts logins only over HTTPS (or from this machine). Set allowPlainHTTPTokens behind a TLS proxy."}})
				return
			}
			sess, ok := d.session(r)
			if !ok {
				d.needLogin(w, r)
				return
			}
			v.User = sess.Name
		}
		tmpl, err := fn(r, v)
		if err != nil {
			var rd *redirect
			if errors.As(err, &rd) {
				http.Redirect(w, r, rd.to, http.StatusSeeOther)
				return
			}
			var es *errStatus
			if errors.As(err, &es) {
				v.Title, v.Data = http.StatusText(es.code), errorData{es.msg}
				d.render(w, es.code, "error", v)
				return
			}
			if !errors.Is(err, context.Canceled) {
				d.log.Error("dashboard", "path", r.URL.Path, "err", err)
			}
			v.Title, v.Data = "Internal error", errorData{"Something went wrong reading the store; the server's log says what."}
			d.render(w, http.StatusInternalServerError, "error", v)
			return
		}
		d.render(w, http.StatusOK, tmpl, v)
	}))
}

type errorData struct{ Message string }

func (d *Dashboard) render(w http.ResponseWriter, code int, name string, v *view) {
	t := d.pages[name]
	var buf strings.Builder
	if err := t.Execute(&buf, v); err != nil {
		d.log.Error("dashboard: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write([]byte(buf.String()))
}

// transportOK refuses sessions over plain HTTP from other machines, as the
// API refuses tokens there.
func (d *Dashboard) transportOK(r *http.Request) bool {
	return r.TLS != nil || d.opts.AllowPlainHTTP || httpx.FromLoopback(r)
}

// session returns the request's unexpired session of a token still
// configured.
func (d *Dashboard) session(r *http.Request) (store.Session, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return store.Session{}, false
	}
	sess, err := d.st.LookupSession(r.Context(), d.opts.Now(), c.Value)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			d.log.Error("dashboard: session", "err", err)
		}
		return store.Session{}, false
	}
	if !d.opts.Tokens.Valid(sess.Token) {
		return store.Session{}, false
	}
	return sess, true
}

// needLogin sends the browser to the login form, coming back to the page
// asked for. A link followed from another site (an alert in a chat or a
// mail) arrives without the SameSite=Strict cookie: such a request gets a
// page that reloads itself from this site, with the cookie.
func (d *Dashboard) needLogin(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		d.render(w, http.StatusOK, "continue", &view{Title: "Opening the dashboard", Version: d.opts.Version, Data: r.URL.RequestURI()})
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

type loginData struct {
	Next, Error string
}

func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request) {
	d.headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.opts.Tokens == nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		d.render(w, http.StatusOK, "login", &view{Title: "Log in", Auth: true, Version: d.opts.Version, Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}})
	})).ServeHTTP(w, r)
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	d.headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.opts.Tokens == nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		if !d.transportOK(r) {
			d.render(w, http.StatusForbidden, "error", &view{Title: "HTTPS required", Version: d.opts.Version, Data: errorData{
				"The dashboard accepts logins only over HTTPS (or from this machine)."}})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
		next := safeNext(r.PostFormValue("next"))
		tok, ok := d.opts.Tokens.Check(strings.TrimSpace(r.PostFormValue("token")))
		if !ok {
			d.log.Warn("dashboard: login refused", "remote", r.RemoteAddr)
			d.render(w, http.StatusUnauthorized, "login", &view{Title: "Log in", Auth: true, Version: d.opts.Version,
				Data: loginData{Next: next, Error: "That token is not one this server accepts."}})
			return
		}
		id, err := newSessionID()
		if err != nil {
			d.log.Error("dashboard: session id", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		now := d.opts.Now()
		if err := d.st.CreateSession(r.Context(), now, id, store.Session{Token: tok.ID, Name: tok.Name, Expires: now.Add(d.opts.SessionTTL)}); err != nil {
			d.log.Error("dashboard: session", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		d.log.Info("dashboard: logged in", "token", tok.Name, "remote", r.RemoteAddr)
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", MaxAge: int(d.opts.SessionTTL / time.Second),
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, next, http.StatusSeeOther)
	})).ServeHTTP(w, r)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		if err := d.st.DeleteSession(r.Context(), c.Value); err != nil {
			d.log.Error("dashboard: logout", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func newSessionID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// safeNext returns next when it is a path on this site, else "/".
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return "/"
	}
	// Browsers drop tabs and newlines from URLs: "/\t/evil.example" is
	// "//evil.example".
	for _, c := range []byte(next) {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}
