// Package registry discovers what a container registry holds: its
// repositories (the catalog API, following pagination, or a configured
// list where the catalog is disabled), each repository's tags (paginated),
// and the digest each tag names (by HEAD, falling back to GET), with
// multi-platform indexes resolved to the image of each wanted platform.
//
// One Client serves one registry: it authenticates once per repository and
// reuses the connection (no repeated /v2/ pings), and it honours 429
// answers, waiting for their Retry-After and counting them.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/vigil-scanner/vigil/image/pick"
	"github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/internal/httpx"
)

// Options configure a Client.
type Options struct {
	// PageSize is the number of repositories or tags asked for per page;
	// zero lets the registry choose.
	PageSize int
	// MaxRetryAfter bounds the wait for one 429 answer; zero means a
	// minute. Waits longer than that fail the request.
	MaxRetryAfter time.Duration
	// Logger receives rate-limit notices; nil discards them.
	Logger *slog.Logger
}

// Client lists one registry.
type Client struct {
	host   string
	access remote.Access
	opts   Options
	puller *ggcr.Puller
	// rateLimited counts 429 answers.
	rateLimited atomic.Int64
	log         *slog.Logger
}

// New returns a Client for the registry at host ("host[:port]").
func New(host string, access remote.Access, opts Options) (*Client, error) {
	if _, err := name.NewRegistry(host, access.NameOptions()...); err != nil {
		return nil, fmt.Errorf("registry %q: %w", host, err)
	}
	if opts.MaxRetryAfter == 0 {
		opts.MaxRetryAfter = time.Minute
	}
	c := &Client{host: host, access: access, opts: opts, log: opts.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.access.Transport = &rateLimit{next: access.RoundTripper(), max: opts.MaxRetryAfter, count: &c.rateLimited, log: c.log}
	p, err := ggcr.NewPuller(c.options(context.Background())...)
	if err != nil {
		return nil, err
	}
	c.puller = p
	return c, nil
}

// Host is the registry's "host[:port]".
func (c *Client) Host() string { return c.host }

// Access returns the access the client uses, with its rate-limit
// handling, for pulls from the same registry.
func (c *Client) Access() remote.Access { return c.access }

// RateLimited returns the number of 429 answers seen so far.
func (c *Client) RateLimited() int64 { return c.rateLimited.Load() }

func (c *Client) options(ctx context.Context) []ggcr.Option {
	o := c.access.Options(ctx)
	if c.puller != nil {
		o = append(o, ggcr.Reuse(c.puller))
	}
	if c.opts.PageSize > 0 {
		o = append(o, ggcr.WithPageSize(c.opts.PageSize))
	}
	return o
}

// Repositories lists the registry's catalog, every page of it.
func (c *Client) Repositories(ctx context.Context) ([]string, error) {
	reg, err := name.NewRegistry(c.host, c.access.NameOptions()...)
	if err != nil {
		return nil, err
	}
	repos, err := ggcr.Catalog(ctx, reg, c.options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("registry %s: catalog: %w", c.host, err)
	}
	return repos, nil
}

// Repository returns the full reference of a repository of the registry.
func (c *Client) Repository(repo string) (name.Repository, error) {
	return name.NewRepository(c.host+"/"+repo, c.access.NameOptions()...)
}

// Tags lists a repository's tags, every page of them.
func (c *Client) Tags(ctx context.Context, repo string) ([]string, error) {
	r, err := c.Repository(repo)
	if err != nil {
		return nil, err
	}
	tags, err := ggcr.List(r, c.options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("%s: tags: %w", r, err)
	}
	return tags, nil
}

// Resolved is what a tag or digest names: one image per wanted platform.
type Resolved struct {
	// Digest is the manifest digest the reference names (an index's when
	// it is multi-platform).
	Digest string
	// Index is true when Digest is a multi-platform index.
	Index bool
	// Images maps each wanted platform to the digest of its image; a
	// single-platform manifest is the image of every wanted platform.
	Images map[string]string
}

// Head returns the digest a tag (or digest) reference names and whether it
// is an index, by HEAD (GET where HEAD is not supported).
func (c *Client) Head(ctx context.Context, repo, ref string) (v1.Descriptor, error) {
	r, err := c.ref(repo, ref)
	if err != nil {
		return v1.Descriptor{}, err
	}
	desc, err := ggcr.Head(r, c.options(ctx)...)
	if err == nil {
		return *desc, nil
	}
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusMethodNotAllowed || te.StatusCode == http.StatusNotImplemented) {
		d, gerr := ggcr.Get(r, c.options(ctx)...)
		if gerr != nil {
			return v1.Descriptor{}, gerr
		}
		return d.Descriptor, nil
	}
	return v1.Descriptor{}, err
}

// Platforms returns the image of each of platforms in the index digest of
// repo; a platform the index lacks is absent from the map.
func (c *Client) Platforms(ctx context.Context, repo, digest string, platforms []v1.Platform) (map[string]string, error) {
	r, err := c.ref(repo, digest)
	if err != nil {
		return nil, err
	}
	idx, err := ggcr.Index(r, c.options(ctx)...)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range platforms {
		_, desc, err := pick.FromIndex(idx, pick.Want{Platform: p})
		if err != nil {
			continue
		}
		out[p.String()] = desc.Digest.String()
	}
	return out, nil
}

func (c *Client) ref(repo, ref string) (name.Reference, error) {
	sep := ":"
	if strings.Contains(ref, ":") {
		sep = "@"
	}
	return name.ParseReference(c.host+"/"+repo+sep+ref, c.access.NameOptions()...)
}

// rateLimit retries requests answered 429, after the Retry-After the
// registry asked for (httpx.RetryAfter; a second when it names none), at
// most three times.
type rateLimit struct {
	next  http.RoundTripper
	max   time.Duration
	count *atomic.Int64
	log   *slog.Logger
}

func (t *rateLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			return resp, err
		}
		t.count.Add(1)
		wait, ok := httpx.RetryAfter(resp.Header, time.Now())
		if !ok {
			wait = time.Second
		}
		if attempt == 3 || wait > t.max || (req.Body != nil && req.GetBody == nil) {
			return resp, nil
		}
		resp.Body.Close()
		t.log.Warn("registry rate limit: waiting", "host", req.URL.Host, "retryAfter", wait)
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(wait):
		}
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}
