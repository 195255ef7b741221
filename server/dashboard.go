package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/vigil-scanner/vigil/dashboard"
)

// registerDashboard serves the dashboard (package dashboard) beside the
// API: at "/", with logins by the API's tokens, or without a login when
// auth is none.
func (s *Server) registerDashboard(mux *http.ServeMux) {
	opts := dashboard.Options{Store: s.st, AllowPlainHTTP: s.cfg.AllowPlainHTTPTokens, Version: s.opts.Version, Logger: s.log,
		Database: func() dashboard.Database {
			db := s.eng.DB()
			return dashboard.Database{Digest: db.Digest, BuiltAt: db.BuiltAt}
		}}
	if s.cfg.Auth != "none" {
		opts.Tokens = dashboardTokens{s}
	}
	d, err := dashboard.New(opts)
	if err != nil {
		s.log.Error("dashboard disabled", "err", err)
		return
	}
	d.Register(mux)
}

// dashboardTokens lets the API's tokens log in to the dashboard; either
// scope may read it.
type dashboardTokens struct{ s *Server }

func (t dashboardTokens) Check(raw string) (dashboard.Token, bool) {
	if raw == "" {
		return dashboard.Token{}, false
	}
	tok := t.s.lookup(raw)
	if tok == nil {
		return dashboard.Token{}, false
	}
	return dashboard.Token{ID: tokenID(tok), Name: tok.name}, true
}

func (t dashboardTokens) Valid(id string) bool {
	for i := range t.s.tokens {
		if tokenID(&t.s.tokens[i]) == id {
			return true
		}
	}
	return false
}

// tokenID is a token's public identity: a hash of its stored hash.
func tokenID(tok *token) string {
	h := sha256.Sum256(tok.hash[:])
	return hex.EncodeToString(h[:8])
}
