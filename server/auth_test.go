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
