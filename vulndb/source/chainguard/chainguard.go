// Package chainguard reads the Chainguard security database,
// https://packages.cgr.dev/chainguard/security.json: one Alpine-style secdb JSON
// document (see package vulndb/source/internal/secdb) for the rolling
// distribution.
//
// Records: one Affected per (package, id), ecosystem "chainguard", scheme apk.
// A secfixes key is the first fixed version (status fixed); key "0" means
// the ids do not affect the package (status not_affected). Chainguard packages
// are named as melange builds them (the origin of subpackages).
//
// Limits: fixes only; unfixed vulnerabilities are not listed.
package chainguard

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

// Source is the Chainguard secdb feed.
type Source struct{ opts Options }

// New returns the source configured by opts.
func New(opts Options) *Source { return &Source{opts: opts} }

// Name returns "chainguard".
func (*Source) Name() string { return "chainguard" }

// DefaultBase returns https://packages.cgr.dev/chainguard/.
func (*Source) DefaultBase() string { return "https://packages.cgr.dev/chainguard/" }

// Load reads security.json.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	rc, err := f.Open(ctx, "security.json")
	if err != nil {
		return fmt.Errorf("chainguard: %w", err)
	}
	defer rc.Close()
	if err := secdb.Load(ctx, rc, secdb.JSON, "security.json", "chainguard", "chainguard", sink, feed.Logger(s.opts.Logger)); err != nil {
		return fmt.Errorf("chainguard: %w", err)
	}
	return nil
}
