package fetch

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func readAll(t *testing.T, f *Fetcher, rel string) (string, error) {
	t.Helper()
	r, err := f.Open(context.Background(), rel)
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return string(b), err
}

func TestLocal(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "Rocky Linux"), 0o755)
	os.WriteFile(filepath.Join(dir, "Rocky Linux", "all.zip"), []byte("zip"), 0o644)
	for _, base := range []string{dir, "file://" + filepath.ToSlash(dir)} {
		f, err := New(base, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := readAll(t, f, "Rocky Linux/all.zip"); err != nil || got != "zip" {
			t.Errorf("%s: got %q, %v", base, got, err)
		}
		if _, err := readAll(t, f, "missing.txt"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: missing file: err = %v, want fs.ErrNotExist", base, err)
		}
		if _, err := readAll(t, f, "../etc/passwd"); err == nil {
			t.Errorf("%s: escaping path accepted", base)
		}
	}
	if _, err := New("ftp://example.com/x", Options{}); err == nil {
		t.Error("ftp base accepted")
	}
}

func TestHTTPRetryCacheAndNotFound(t *testing.T) {
	var calls, fails atomic.Int32
	fails.Store(2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch r.URL.EscapedPath() {
		case "/base/Rocky%20Linux/all.zip":
			if fails.Add(-1) >= 0 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"v1"`)
			io.WriteString(w, "payload")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f, err := New(srv.URL+"/base/", Options{CacheDir: t.TempDir(), Retries: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(t, f, "Rocky Linux/all.zip"); err != nil || got != "payload" {
		t.Fatalf("first fetch: %q, %v", got, err)
	}
	if calls.Load() != 3 {
		t.Errorf("calls = %d, want 3 (two 503 then 200)", calls.Load())
	}
	if got, err := readAll(t, f, "Rocky Linux/all.zip"); err != nil || got != "payload" {
		t.Fatalf("revalidated fetch: %q, %v", got, err)
	}
	if _, err := readAll(t, f, "nope.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("404: err = %v, want fs.ErrNotExist", err)
	}
	fails.Store(100)
	f2, _ := New(srv.URL+"/base", Options{Retries: 1})
	if _, err := readAll(t, f2, "Rocky Linux/all.zip"); err == nil {
		t.Error("persistent 503 did not fail")
	}
}

// TestRateLimitAndStall: a 429 is retried after its Retry-After, one that
// asks for too long fails at once and says why, and a body that stops
// flowing is abandoned.
func TestRateLimitAndStall(t *testing.T) {
	var calls atomic.Int32
	retryAfter := "1"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch r.URL.Path {
		case "/limited":
			if n == 1 {
				w.Header().Set("Retry-After", retryAfter)
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
			io.WriteString(w, "ok")
		case "/stall":
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	f, err := New(srv.URL, Options{StallTimeout: 300 * time.Millisecond, MaxRetryAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if got, err := readAll(t, f, "limited"); err != nil || got != "ok" {
		t.Fatalf("after Retry-After: %q, %v", got, err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("Retry-After: 1 not honoured (%s)", d)
	}
	calls.Store(0)
	retryAfter = "7200"
	_, err = readAll(t, f, "limited")
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "retry after 2h0m0s") {
		t.Errorf("long Retry-After: %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d requests after a long Retry-After, want 1", calls.Load())
	}
	start = time.Now()
	_, err = readAll(t, f, "stall")
	if err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Errorf("stalled body: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stall noticed after %s", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	slow, _ := New(srv.URL, Options{})
	r, err := slow.Open(ctx, "stall")
	if err == nil {
		_, err = io.ReadAll(r)
		r.Close()
	}
	if err == nil {
		t.Error("read past the context's deadline")
	}
}

// TestSweepStaleDownloads: temporary downloads a killed process left in
// the cache are removed (once stale), not the ones in progress.
func TestSweepStaleDownloads(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") }))
	defer srv.Close()
	cache := t.TempDir()
	dir := filepath.Join(cache, "http")
	os.MkdirAll(dir, 0o755)
	stale, fresh := filepath.Join(dir, ".download-1"), filepath.Join(dir, ".download-2")
	os.WriteFile(stale, []byte("half"), 0o644)
	os.WriteFile(fresh, []byte("half"), 0o644)
	old := time.Now().Add(-2 * staleDownload)
	os.Chtimes(stale, old, old)
	f, _ := New(srv.URL, Options{CacheDir: cache})
	if got, err := readAll(t, f, "a"); err != nil || got != "x" {
		t.Fatal(got, err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale download not removed")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a download in progress was removed")
	}
}
