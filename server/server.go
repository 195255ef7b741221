// Package server is `vigil server`: it loads the configuration, runs the
// registry watch (package engine) over the store (package store), and
// serves the versioned JSON API (docs/openapi.yaml), health checks and
// Prometheus metrics.
package server

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/robfig/cron/v3"

	"github.com/vigil-scanner/vigil/alert"
	"github.com/vigil-scanner/vigil/engine"
	"github.com/vigil-scanner/vigil/image/pick"
	"github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/layerfs/diskcache"
	"github.com/vigil-scanner/vigil/policy"
	"github.com/vigil-scanner/vigil/store"
	"github.com/vigil-scanner/vigil/vulndb/oci"
)

// Options are what the command line passes besides the configuration.
type Options struct {
	// LookupEnv resolves the environment variables the configuration
	// names (credentials, secrets); the command line passes
	// os.LookupEnv. Nothing else reads the environment.
	LookupEnv func(string) (string, bool)
	// CacheDir is used when the configuration names none.
	CacheDir string
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
	// Version is vigil's version, for alerts and the API.
	Version string
}

// Server is a configured vigil server.
type Server struct {
	cfg     *Config
	opts    Options
	log     *slog.Logger
	st      *store.Store
	eng     *engine.Engine
	tokens  []token
	dbPath  string
	started time.Time
}

type token struct {
	name, scope string
	hash        [32]byte
}

// New opens the store and prepares the engine; nothing runs until Run.
func New(ctx context.Context, cfg *Config, opts Options) (*Server, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = func(string) (string, bool) { return "", false }
	}
	log := cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	s := &Server{cfg: cfg, opts: opts, log: log, started: time.Now()}
	cacheDir := cmp.Or(cfg.Database.CacheDir, opts.CacheDir)
	if cacheDir == "" {
		return nil, errors.New("no cache directory: set database.cacheDir")
	}
	s.dbPath = oci.DefaultDir(cacheDir)
	if err := s.loadTokens(); err != nil {
		return nil, err
	}
	if err := s.checkListen(); err != nil {
		return nil, err
	}
	dsn := cmp.Or(cfg.Store, "sqlite://"+filepath.Join(cacheDir, "server", "vigil.db"))
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	s.st = st
	eopts, err := s.engineOptions(cacheDir)
	if err != nil {
		st.Close()
		return nil, err
	}
	if s.eng, err = engine.New(eopts); err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

// Engine returns the server's engine.
func (s *Server) Engine() *engine.Engine { return s.eng }

// Close closes the store.
func (s *Server) Close() error { return s.st.Close() }

func (s *Server) loadTokens() error {
	for i, t := range s.cfg.Tokens {
		h := t.Hash
		if t.HashFile != "" {
			data, err := os.ReadFile(t.HashFile)
			if err != nil {
				return fmt.Errorf("%s: %w", s.cfg.at("tokens", i, "hashFile"), err)
			}
			h = strings.TrimSpace(string(data))
		}
		raw, ok := strings.CutPrefix(h, "sha256:")
		b, err := hex.DecodeString(raw)
		if !ok || err != nil || len(b) != 32 {
			return fmt.Errorf("%s: token hash must be sha256:<64 hex digits> (vigil server token prints one)", s.cfg.at("tokens", i))
		}
		tok := token{name: t.Name, scope: t.Scope}
		copy(tok.hash[:], b)
		s.tokens = append(s.tokens, tok)
	}
	return nil
}

// HashToken returns the stored form of a bearer token.
func HashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return "sha256:" + hex.EncodeToString(h[:])
}

func (s *Server) listen() string { return cmp.Or(s.cfg.Listen, "127.0.0.1:8080") }

// checkListen refuses to serve without authentication anywhere but on
// loopback.
func (s *Server) checkListen() error {
	if s.cfg.Auth == "none" && !isLoopbackAddr(s.listen()) {
		return fmt.Errorf("%s: auth none is allowed only when listening on a loopback address, not %s", s.cfg.at("auth"), s.listen())
	}
	if s.cfg.Auth == "" && len(s.tokens) == 0 {
		if !isLoopbackAddr(s.listen()) {
			return fmt.Errorf("%s: no tokens configured: add tokens to serve on %s (without tokens the API is served on loopback only)", s.cfg.at("tokens"), s.listen())
		}
		s.log.Warn("no tokens configured: the API is served without authentication, on loopback only", "listen", s.listen())
		s.cfg.Auth = "none"
	}
	if s.cfg.Auth == "tokens" && len(s.tokens) == 0 {
		return fmt.Errorf("%s: auth tokens but no tokens configured", s.cfg.at("tokens"))
	}
	return nil
}

func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) engineOptions(cacheDir string) (engine.Options, error) {
	cfg := s.cfg
	o := engine.Options{
		Store: s.st, DBPath: s.dbPath, Workers: cfg.Workers, Lease: time.Duration(cfg.Lease), Logger: s.log,
		Cache: diskcache.New(filepath.Join(cacheDir, "layers"), diskcache.DefaultMaxSize),
	}
	o.DBCheck = time.Duration(cfg.Database.Check)
	o.DBRefresh = time.Duration(cfg.Database.Refresh)
	if !cfg.Database.SkipUpdate {
		repos := cfg.Database.Repositories
		o.RefreshDB = func(ctx context.Context) error {
			// Every part: the server matches whatever its registries hold.
			// A database built here is replaced only when the
			// configuration names the repositories.
			_, err := oci.Update(ctx, oci.UpdateOptions{Dir: s.dbPath, Repositories: repos, Need: oci.Selection{All: true},
				ReplaceBuilt: len(repos) > 0, Registry: oci.Registry{Access: remote.Access{Keychain: authn.DefaultKeychain}, Logger: s.log}})
			return err
		}
	}
	if p := cfg.Policy; len(p.Severities) > 0 || p.IgnoreUnfixed || p.IgnoreFile != "" || len(p.VEX) > 0 {
		sev := make([]string, len(p.Severities))
		for i, v := range p.Severities {
			sev[i] = strings.ToUpper(v)
		}
		pol, err := policy.Load(policy.Options{Filter: policy.Filter{Severities: sev, IgnoreUnfixed: p.IgnoreUnfixed}, IgnoreFile: p.IgnoreFile, VEX: p.VEX})
		if err != nil {
			return o, fmt.Errorf("%s: %w", cfg.at("policy"), err)
		}
		o.Policy = pol
	}
	for i, rc := range cfg.Registries {
		r, err := s.registry(i, rc)
		if err != nil {
			return o, err
		}
		o.Registries = append(o.Registries, r)
	}
	for i := range cfg.Alerts {
		route := cfg.Alerts[i]
		if err := route.ResolveEnv(s.opts.LookupEnv); err != nil {
			return o, fmt.Errorf("%s: %w", cfg.at("alerts", i), err)
		}
		sender, err := alert.NewSender(route, alert.Options{Logger: s.log, Version: s.opts.Version})
		if err != nil {
			return o, fmt.Errorf("%s: %w", cfg.at("alerts", i), err)
		}
		o.Routes = append(o.Routes, engine.Route{Name: routeName(&route), Route: route, Sender: sender})
	}
	return o, nil
}

// registry resolves a registry's configuration: credentials from the
// environment variables it names, else the Docker config.
func (s *Server) registry(i int, rc RegistryConfig) (engine.Registry, error) {
	r := engine.Registry{Host: rc.URL, Repositories: rc.Repositories, List: rc.List, Exclude: rc.Exclude,
		Interval: time.Duration(rc.Interval), PageSize: rc.PageSize,
		Tags: engine.TagFilter{Include: rc.Tags.Include, Exclude: rc.Tags.Exclude, Newest: rc.Tags.Newest, By: rc.Tags.By}}
	r.Access = remote.Access{Insecure: rc.Insecure}
	user := rc.Username
	if rc.UsernameEnv != "" {
		v, ok := s.opts.LookupEnv(rc.UsernameEnv)
		if !ok || v == "" {
			return r, fmt.Errorf("%s: environment variable %s is not set", s.cfg.at("registries", i, "usernameEnv"), rc.UsernameEnv)
		}
		user = v
	}
	switch {
	case rc.PasswordEnv != "":
		pw, ok := s.opts.LookupEnv(rc.PasswordEnv)
		if !ok || pw == "" {
			return r, fmt.Errorf("%s: environment variable %s is not set", s.cfg.at("registries", i, "passwordEnv"), rc.PasswordEnv)
		}
		r.Access.Auth = remote.Basic(user, pw)
	case user != "":
		return r, fmt.Errorf("%s: a user name needs passwordEnv", s.cfg.at("registries", i, "username"))
	default:
		r.Access.Keychain = authn.DefaultKeychain
	}
	if rc.Tags.Regex != "" {
		r.Tags.Regex = regexp.MustCompile(rc.Tags.Regex) // checked by validate
	}
	for _, p := range rc.Platforms {
		pl, err := pick.ParsePlatform(p)
		if err != nil {
			return r, err
		}
		r.Platforms = append(r.Platforms, pl)
	}
	if len(r.Platforms) == 0 {
		r.Platforms = []v1.Platform{{OS: "linux", Architecture: "amd64"}}
	}
	if rc.Schedule != "" {
		sched, err := cron.ParseStandard(rc.Schedule)
		if err != nil {
			return r, err
		}
		r.Schedule = sched
	}
	return r, nil
}

// Run serves the API and runs the engine until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	l, err := net.Listen("tcp", s.listen())
	if err != nil {
		return err
	}
	return s.Serve(ctx, l)
}

// Serve is Run on a listener.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 2)
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { errc <- s.eng.Run(ectx) }()
	go func() {
		var err error
		if s.cfg.TLS != nil {
			err = srv.ServeTLS(l, s.cfg.TLS.Cert, s.cfg.TLS.Key)
		} else {
			err = srv.Serve(l)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- err
	}()
	s.log.Info("vigil server listening", "addr", l.Addr().String(), "store", s.st.Backend())
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	srv.Shutdown(sctx)
	return err
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}
