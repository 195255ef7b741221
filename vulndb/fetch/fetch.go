// Package fetch reads the files of an upstream feed from its base location:
// an http(s) URL, a file:// URL or a plain directory laid out like the
// upstream site (a mirror). Remote files can be cached on disk and
// revalidated with ETag / Last-Modified.
package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vigil-scanner/vigil/internal/httpx"
)

// Options configures a Fetcher.
type Options struct {
	// CacheDir, when set, keeps downloaded files under CacheDir/http and
	// revalidates them with conditional requests.
	CacheDir string
	// Client is the HTTP client; nil means one whose every phase has a
	// timeout (connect, TLS, response headers; see package httpx).
	Client *http.Client
	// Retries is how many times a request failing with a network error, a
	// 429 or a 5xx status is retried; 0 means 3. The wait between attempts
	// doubles from half a second, or is what the server's Retry-After asks.
	Retries int
	// MaxRetryAfter is the longest Retry-After that is waited out; a
	// server asking for longer fails the request at once, saying so. 0
	// means 2 minutes.
	MaxRetryAfter time.Duration
	// StallTimeout abandons a response body that delivers nothing for
	// this long; 0 means httpx.StallTimeout.
	StallTimeout time.Duration
	// UserAgent is sent with HTTP requests.
	UserAgent string
	Logger    *slog.Logger
}

// Fetcher opens files relative to one base location. It implements
// vulndb.Fetcher.
type Fetcher struct {
	base *url.URL // http(s) base, or nil
	root string   // local directory when base is nil
	opts Options

	sweepOnce sync.Once
}

// New returns a Fetcher for base: "https://…", "http://…", "file:///dir"
// or a directory path.
func New(base string, opts Options) (*Fetcher, error) {
	if opts.Client == nil {
		opts.Client = &http.Client{Transport: httpx.NewTransport(false)}
	}
	if opts.Retries == 0 {
		opts.Retries = 3
	}
	if opts.MaxRetryAfter == 0 {
		opts.MaxRetryAfter = 2 * time.Minute
	}
	if opts.StallTimeout == 0 {
		opts.StallTimeout = httpx.StallTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "vigil-vulndb"
	}
	u, err := url.Parse(base)
	switch {
	case err == nil && (u.Scheme == "http" || u.Scheme == "https"):
		if u.Host == "" {
			return nil, fmt.Errorf("fetch: base %q has no host", base)
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		return &Fetcher{base: u, opts: opts}, nil
	case err == nil && u.Scheme == "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("fetch: base %q: file URLs must not name a host", base)
		}
		return &Fetcher{root: filepath.FromSlash(u.Path), opts: opts}, nil
	case err == nil && u.Scheme != "" && len(u.Scheme) > 1:
		return nil, fmt.Errorf("fetch: base %q: unsupported scheme %q", base, u.Scheme)
	}
	return &Fetcher{root: base, opts: opts}, nil
}

// staleDownload is the age past which a temporary download in the cache
// is taken for one a killed process left.
const staleDownload = time.Hour

// sweep removes temporary downloads killed processes left in the cache.
func sweep(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".download-") && !strings.HasPrefix(e.Name(), ".meta-") {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleDownload {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// writeAtomic writes data to a temporary file beside path and renames it
// over path: a reader sees the old file or the new one, never a part.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".meta-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Open returns the file at rel, a slash-separated path below the base. A
// missing file yields an error matching fs.ErrNotExist.
//
// Two forms serve sources that list or query their upstream: rel "" is the
// base's index (an HTTP server's directory listing; for a local mirror, an
// HTML listing of the directory made the same way), and rel starting with
// "?" is a query string appended to an HTTP base (API paging).
func (f *Fetcher) Open(ctx context.Context, rel string) (io.ReadCloser, error) {
	if rel == "" {
		return f.index(ctx)
	}
	if query, ok := strings.CutPrefix(rel, "?"); ok && f.base != nil {
		u := *f.base
		u.RawQuery = query
		return f.get(ctx, u.String())
	}
	if !fs.ValidPath(rel) || rel == "." {
		return nil, fmt.Errorf("fetch: invalid path %q", rel)
	}
	if f.base == nil {
		r, err := os.Open(filepath.Join(f.root, filepath.FromSlash(rel)))
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		return r, nil
	}
	u := *f.base
	u.Path = path.Join(u.Path, rel)
	u.RawPath = ""
	return f.get(ctx, u.String())
}

// index returns the base's directory listing.
func (f *Fetcher) index(ctx context.Context) (io.ReadCloser, error) {
	if f.base != nil {
		u := *f.base
		u.Path += "/"
		return f.get(ctx, u.String())
	}
	entries, err := os.ReadDir(f.root)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	var b strings.Builder
	b.WriteString("<html><body><pre>\n")
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			name += "/"
		}
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a>\n", html.EscapeString(name), html.EscapeString(name))
	}
	b.WriteString("</pre></body></html>\n")
	return io.NopCloser(strings.NewReader(b.String())), nil
}

// cacheMeta is stored beside a cached body.
type cacheMeta struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
}

func (f *Fetcher) get(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	var (
		bodyPath, metaPath string
		meta               cacheMeta
		cached             bool
	)
	if f.opts.CacheDir != "" {
		sum := sha256.Sum256([]byte(rawURL))
		name := hex.EncodeToString(sum[:])
		dir := filepath.Join(f.opts.CacheDir, "http")
		bodyPath, metaPath = filepath.Join(dir, name), filepath.Join(dir, name+".json")
		if raw, err := os.ReadFile(metaPath); err == nil && json.Unmarshal(raw, &meta) == nil && meta.URL == rawURL {
			if _, err := os.Stat(bodyPath); err == nil {
				cached = true
			}
		}
	}
	resp, err := f.do(ctx, rawURL, func(req *http.Request) {
		if cached {
			if meta.ETag != "" {
				req.Header.Set("If-None-Match", meta.ETag)
			}
			if meta.LastModified != "" {
				req.Header.Set("If-Modified-Since", meta.LastModified)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && cached:
		resp.Body.Close()
		f.opts.Logger.Debug("fetch: cache hit", "url", rawURL)
		r, err := os.Open(bodyPath)
		if err != nil {
			return nil, fmt.Errorf("fetch: cached %s: %w", rawURL, err)
		}
		return r, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		resp.Body.Close()
		return nil, fmt.Errorf("fetch: GET %s: %s: %w", rawURL, resp.Status, fs.ErrNotExist)
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		return nil, fmt.Errorf("fetch: GET %s: %s", rawURL, resp.Status)
	}
	if f.opts.CacheDir == "" {
		return resp.Body, nil
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(filepath.Dir(bodyPath), 0o755); err != nil {
		return nil, fmt.Errorf("fetch: cache: %w", err)
	}
	f.sweepOnce.Do(func() { sweep(filepath.Dir(bodyPath)) })
	tmp, err := os.CreateTemp(filepath.Dir(bodyPath), ".download-*")
	if err != nil {
		return nil, fmt.Errorf("fetch: cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := io.Copy(tmp, resp.Body); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("fetch: GET %s: reading body: %w", rawURL, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("fetch: cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), bodyPath); err != nil {
		return nil, fmt.Errorf("fetch: cache: %w", err)
	}
	meta = cacheMeta{URL: rawURL, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	if raw, err := json.Marshal(meta); err == nil {
		if err := writeAtomic(metaPath, raw); err != nil {
			f.opts.Logger.Warn("fetch: cannot record cache validators", "url", rawURL, "err", err)
		}
	}
	r, err := os.Open(bodyPath)
	if err != nil {
		return nil, fmt.Errorf("fetch: cache: %w", err)
	}
	return r, nil
}

// do sends a GET, retrying network errors, 429 and 5xx responses with
// backoff, or after the time the server's Retry-After asks for. The body
// of the response returned is cut when it stalls.
func (f *Fetcher) do(ctx context.Context, rawURL string, prepare func(*http.Request)) (*http.Response, error) {
	var (
		lastErr error
		wait    time.Duration
	)
	for attempt := 0; attempt <= f.opts.Retries; attempt++ {
		if attempt > 0 {
			f.opts.Logger.Warn("fetch: retrying", "url", rawURL, "attempt", attempt, "wait", wait, "err", lastErr)
			if err := httpx.Sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("fetch: GET %s: %w (after: %w)", rawURL, err, lastErr)
			}
		}
		wait = time.Duration(1<<min(attempt, 6)) * 500 * time.Millisecond
		rctx, cancel := context.WithCancelCause(ctx)
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, rawURL, nil)
		if err != nil {
			cancel(nil)
			return nil, fmt.Errorf("fetch: %w", err)
		}
		req.Header.Set("User-Agent", f.opts.UserAgent)
		prepare(req)
		resp, err := f.opts.Client.Do(req)
		if err != nil {
			cancel(nil)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("fetch: GET %s: %w", rawURL, context.Cause(ctx))
			}
			lastErr = err
			continue
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			cancel(nil)
			lastErr = fmt.Errorf("GET %s: %s", rawURL, resp.Status)
			if d, ok := httpx.RetryAfter(resp.Header, time.Now()); ok {
				if d > f.opts.MaxRetryAfter {
					rl := &httpx.RateLimitError{Host: req.URL.Host, RetryAfter: d}
					if resp.StatusCode != http.StatusTooManyRequests {
						return nil, fmt.Errorf("fetch: GET %s: %s, and the server asks to retry after %s", rawURL, resp.Status, d.Round(time.Second))
					}
					return nil, fmt.Errorf("fetch: GET %s: %w", rawURL, rl)
				}
				wait = d
			}
			continue
		}
		resp.Body = httpx.WatchBody(resp.Body, cancel, f.opts.StallTimeout)
		return resp, nil
	}
	return nil, fmt.Errorf("fetch: GET %s: giving up after %d attempts: %w", rawURL, f.opts.Retries+1, lastErr)
}
