package vulndb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-scanner/vigil/vulndb/fetch"
	"golang.org/x/sync/errgroup"
)

// BuildOptions configures Build.
type BuildOptions struct {
	// Path is the database directory to create or replace.
	Path string
	// Sources are the feeds to load, e.g. from package vulndb/sources.
	Sources []Source
	// Mirrors maps a source name to a base replacing its DefaultBase.
	Mirrors map[string]string
	// CacheDir, when set, caches downloads (see package fetch).
	CacheDir string
	// UpdateInterval sets Metadata.NextUpdate = BuiltAt + UpdateInterval;
	// 0 means 24h.
	UpdateInterval time.Duration
	// Parallel is how many sources load at once; 0 means 4.
	Parallel int
	Logger   *slog.Logger
	// Progress, when set, receives one line per source started and done.
	Progress io.Writer
	// NewFetcher makes the Fetcher for a base; nil uses package fetch.
	NewFetcher func(base string) (Fetcher, error)
}

// BuildReport summarises a build.
type BuildReport struct {
	Path     string
	Metadata Metadata
	Duration time.Duration
	Parts    int
	Size     int64 // bytes of the part files
}

// Build loads every source into a new database at opts.Path. Sources run
// in parallel and share one merging Writer. If any source fails the build
// fails and an existing database at opts.Path is left as it was.
func Build(ctx context.Context, opts BuildOptions) (BuildReport, error) {
	start := time.Now()
	if opts.Path == "" {
		return BuildReport{}, errors.New("vulndb: build: no database path")
	}
	if len(opts.Sources) == 0 {
		return BuildReport{}, errors.New("vulndb: build: no sources")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	newFetcher := opts.NewFetcher
	if newFetcher == nil {
		newFetcher = func(base string) (Fetcher, error) {
			return fetch.New(base, fetch.Options{CacheDir: opts.CacheDir, Logger: logger})
		}
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = 4
	}
	interval := opts.UpdateInterval
	if interval <= 0 {
		interval = 24 * time.Hour
	}
	w, err := NewWriter(opts.Path)
	if err != nil {
		return BuildReport{}, err
	}
	reports := make([]SourceReport, len(opts.Sources))
	var progressMu sync.Mutex
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			progressMu.Lock()
			fmt.Fprintf(opts.Progress, format+"\n", args...)
			progressMu.Unlock()
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, src := range opts.Sources {
		g.Go(func() error {
			base := mirrorFor(opts.Mirrors, src)
			f, err := newFetcher(base)
			if err != nil {
				return fmt.Errorf("source %s: %w", src.Name(), err)
			}
			progress("%s: loading from %s", src.Name(), base)
			t0 := time.Now()
			cs := &countingSink{w: w, source: src.Name()}
			if err := src.Load(gctx, f, cs); err != nil {
				return fmt.Errorf("source %s: %w", src.Name(), err)
			}
			reports[i] = SourceReport{
				Name: src.Name(), Base: base,
				Affected: int(cs.affected.Load()), Vulnerabilities: int(cs.vulns.Load()),
				Duration: time.Since(t0).Round(time.Millisecond),
			}
			progress("%s: %d affected, %d vulnerabilities in %s", src.Name(), reports[i].Affected, reports[i].Vulnerabilities, reports[i].Duration)
			logger.Info("vulndb: source loaded", "source", src.Name(), "affected", reports[i].Affected, "vulnerabilities", reports[i].Vulnerabilities, "duration", reports[i].Duration)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		w.Abort()
		return BuildReport{}, fmt.Errorf("vulndb: build %s: %w", opts.Path, err)
	}
	built := time.Now().UTC().Truncate(time.Second)
	meta := Metadata{BuiltAt: built, NextUpdate: built.Add(interval), Sources: reports,
		Provenance: &Provenance{Kind: ProvenanceBuilt, At: built}}
	// The lock keeps an update of the same directory from interleaving;
	// a holder that does not let go in time is waited out, not obeyed
	// (see Lock).
	unlock, err := Lock(ctx, opts.Path, LockOptions{Purpose: "build"})
	var locked *ErrLocked
	switch {
	case errors.As(err, &locked):
		logger.Warn("vulndb: committing the build without the database lock", "err", err)
	case err != nil:
		w.Abort()
		return BuildReport{}, err
	default:
		defer unlock()
	}
	if err := w.Commit(ctx, meta); err != nil {
		return BuildReport{}, err
	}
	idx, err := ReadIndex(opts.Path)
	if err != nil {
		return BuildReport{}, err
	}
	rep := BuildReport{Path: opts.Path, Metadata: idx.Metadata, Duration: time.Since(start), Parts: len(idx.Parts)}
	for _, p := range idx.Parts {
		rep.Size += p.Size
	}
	return rep, nil
}

// countingSink puts the records of one source, counting them.
type countingSink struct {
	w               *Writer
	source          string
	affected, vulns atomic.Int64
}

func (c *countingSink) PutAffected(ctx context.Context, a Affected) error {
	c.affected.Add(1)
	return c.w.PutAffected(ctx, a)
}

func (c *countingSink) PutVulnerability(ctx context.Context, v Vulnerability) error {
	c.vulns.Add(1)
	return c.w.putVulnerability(ctx, c.source, v)
}

// mirrorFor is the base a source reads from: a mirror named for the source
// ("osv:Go"), else one named for its family ("osv" serves every
// "osv:<ECOSYSTEM>"), else the upstream.
func mirrorFor(mirrors map[string]string, src Source) string {
	name := src.Name()
	if m, ok := mirrors[name]; ok {
		return m
	}
	if family, _, ok := strings.Cut(name, ":"); ok {
		if m, ok := mirrors[family]; ok {
			return m
		}
	}
	return src.DefaultBase()
}
