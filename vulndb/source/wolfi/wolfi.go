// Package wolfi reads the security databases of the two apk-based rolling
// distributions that publish one Alpine-style secdb JSON document (see
// package vulndb/source/internal/secdb):
//
//   - Wolfi, https://packages.wolfi.dev/os/security.json (New), and
//   - Chainguard, https://packages.cgr.dev/chainguard/security.json
//     (NewChainguard).
//
// Records: one Affected per (package, id), ecosystem "wolfi" or
// "chainguard", scheme apk. A secfixes key is the first fixed version
// (status fixed); key "0" means the ids do not affect the package (status
// not_affected). Packages are named as melange builds them (the origin of
// subpackages).
//
// Limits: fixes only; unfixed vulnerabilities are not listed.
package wolfi

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/feed"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/secdb"
)

// Options configure the source.
type Options struct {
	// Logger receives warnings; nil means slog.Default.
	Logger *slog.Logger
}

// Source is one distribution's secdb feed.
type Source struct {
	name, base string
	opts       Options
}

// New returns the Wolfi source.
func New(opts Options) *Source {
	return &Source{name: "wolfi", base: "https://packages.wolfi.dev/os/", opts: opts}
}

// NewChainguard returns the Chainguard source.
func NewChainguard(opts Options) *Source {
	return &Source{name: "chainguard", base: "https://packages.cgr.dev/chainguard/", opts: opts}
}

// Name returns "wolfi" or "chainguard", which is also the ecosystem.
func (s *Source) Name() string { return s.name }

// DefaultBase returns the distribution's package repository.
func (s *Source) DefaultBase() string { return s.base }

// Load reads security.json.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	rc, err := f.Open(ctx, "security.json")
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	defer rc.Close()
	if err := secdb.Load(ctx, rc, secdb.JSON, "security.json", s.name, s.name, sink, feed.Logger(s.opts.Logger)); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}
