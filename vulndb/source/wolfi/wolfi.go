// Package wolfi reads the Wolfi security database,
// https://packages.wolfi.dev/os/security.json: one Alpine-style secdb JSON
// document (see package vulndb/source/internal/secdb) for the rolling
// distribution.
//
// Records: one Affected per (package, id), ecosystem "wolfi", scheme apk.
// A secfixes key is the first fixed version (status fixed); key "0" means
// the ids do not affect the package (status not_affected). Wolfi packages
// are named as melange builds them (the origin of subpackages).
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

// Source is the Wolfi secdb feed.
type Source struct{ opts Options }

// New returns the source configured by opts.
func New(opts Options) *Source { return &Source{opts: opts} }

// Name returns "wolfi".
func (*Source) Name() string { return "wolfi" }

// DefaultBase returns https://packages.wolfi.dev/os/.
func (*Source) DefaultBase() string { return "https://packages.wolfi.dev/os/" }

// Load reads security.json.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	rc, err := f.Open(ctx, "security.json")
	if err != nil {
		return fmt.Errorf("wolfi: %w", err)
	}
	defer rc.Close()
	if err := secdb.Load(ctx, rc, secdb.JSON, "security.json", "wolfi", "wolfi", sink, feed.Logger(s.opts.Logger)); err != nil {
		return fmt.Errorf("wolfi: %w", err)
	}
	return nil
}
