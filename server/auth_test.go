package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAuthPlainHTTP: a token is refused over plain HTTP from a client that
// is not on loopback, unless allowPlainHTTPTokens.
func TestAuthPlainHTTP(t *testing.T) {
	for _, tt := range []struct {
		remote string
		allow  bool
		want   int
	}{
		{"127.0.0.1:4000", false, 200},
		{"[::1]:4000", false, 200},
		{"192.0.2.10:4000", false, 403},
		{"192.0.2.10:4000", true, 200},
	} {
		s := &Server{cfg: &Config{AllowPlainHTTPTokens: tt.allow}}
		s.tokens = []token{{name: "r", scope: ScopeRead}}
		copy(s.tokens[0].hash[:], mustHex(HashToken("secret-token")))
		h := s.auth(ScopeRead, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		req := httptest.NewRequest("GET", "/api/v1/images", nil)
		req.RemoteAddr = tt.remote
		req.Header.Set("Authorization", "Bearer secret-token")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("from %s (allow %t): %d %s, want %d", tt.remote, tt.allow, rec.Code, rec.Body, tt.want)
		}
		if strings.Contains(rec.Body.String(), "secret-token") {
			t.Errorf("answer leaks the token: %s", rec.Body)
		}
	}
}

// TestAuthScopes: an admin token may call every endpoint, a read token the
// queries, a notify token only the notification endpoint; a notify token
// cannot log in to the dashboard.
func TestAuthScopes(t *testing.T) {
	s := &Server{cfg: &Config{}}
	for _, tok := range []struct{ raw, scope string }{{"a", ScopeAdmin}, {"r", ScopeRead}, {"n", ScopeNotify}} {
		tk := token{name: tok.scope, scope: tok.scope}
		copy(tk.hash[:], mustHex(HashToken(tok.raw)))
		s.tokens = append(s.tokens, tk)
	}
	for _, tt := range []struct {
		token, need string
		want        int
	}{
		{"a", ScopeAdmin, 200}, {"a", ScopeRead, 200}, {"a", ScopeNotify, 200},
		{"r", ScopeAdmin, 403}, {"r", ScopeRead, 200}, {"r", ScopeNotify, 403},
		{"n", ScopeAdmin, 403}, {"n", ScopeRead, 403}, {"n", ScopeNotify, 200},
		{"x", ScopeNotify, 401},
	} {
		h := s.auth(tt.need, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		req := httptest.NewRequest("POST", "/api/v1/notifications", nil)
		req.RemoteAddr = "127.0.0.1:4000"
		req.Header.Set("Authorization", "Bearer "+tt.token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("token %q on an endpoint needing %s: %d %s, want %d", tt.token, tt.need, rec.Code, rec.Body, tt.want)
		}
	}
	d := dashboardTokens{s}
	for raw, want := range map[string]bool{"a": true, "r": true, "n": false, "x": false} {
		tok, ok := d.Check(raw)
		if ok != want {
			t.Errorf("dashboard login with token %q: %v, want %v", raw, ok, want)
		}
		if ok && !d.Valid(tok.ID) {
			t.Errorf("dashboard session of token %q not valid", raw)
		}
	}
}
