// Package osv loads OSV records (https://ossf.github.io/osv-schema/) from
// osv.dev's bulk export: <base>/<ECOSYSTEM>/all.zip, one JSON record per
// zip entry.
//
// Ranges of type SEMVER and ECOSYSTEM are kept with the ecosystem's version
// scheme; GIT ranges are dropped. Withdrawn records are stored as
// Vulnerabilities (with Withdrawn set) but produce no Affected entries, so
// they can be shown and never match. Language ecosystems keep the OSV name
// ("Go", "PyPI", …); distribution ecosystems become vigil's
// "<family>:<release>" keys (see mapEcosystem). aliases and upstream ids —
// and related ids of distribution records — become Vulnerability.Aliases
// so a CVE finds the advisories that carry it.
package osv

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"

	"github.com/vigil-scanner/vigil/vulndb"
)

// DefaultBase is osv.dev's public bucket.
const DefaultBase = "https://osv-vulnerabilities.storage.googleapis.com"

const (
	maxZipSize    = 8 << 30  // bound on a spooled all.zip
	maxRecordSize = 32 << 20 // bound on one JSON record
)

// Source loads one osv.dev ecosystem directory, or every supported one.
type Source struct {
	ecosystem string // "" for all
	logger    *slog.Logger
}

// New returns the source "osv:<ecosystem>" for one osv.dev ecosystem
// directory ("Go", "PyPI", "Rocky Linux", …). logger may be nil.
func New(ecosystem string, logger *slog.Logger) *Source {
	return &Source{ecosystem: ecosystem, logger: logger}
}

// All returns the source "osv", which loads every directory listed in the
// mirror's ecosystems.txt that vigil can map, or DefaultEcosystems when the
// mirror has no ecosystems.txt.
func All(logger *slog.Logger) *Source { return &Source{logger: logger} }

// Name implements vulndb.Source.
func (s *Source) Name() string {
	if s.ecosystem == "" {
		return "osv"
	}
	return "osv:" + s.ecosystem
}

// DefaultBase implements vulndb.Source.
func (s *Source) DefaultBase() string { return DefaultBase }

func (s *Source) log() *slog.Logger {
	if s.logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.logger
}

// Load implements vulndb.Source.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	dirs := []string{s.ecosystem}
	if s.ecosystem == "" {
		var err error
		if dirs, err = s.ecosystems(ctx, f); err != nil {
			return err
		}
	}
	for _, dir := range dirs {
		if err := s.loadDir(ctx, f, sink, dir); err != nil {
			return err
		}
	}
	return nil
}

// ecosystems reads ecosystems.txt, keeping the directories vigil maps.
func (s *Source) ecosystems(ctx context.Context, f vulndb.Fetcher) ([]string, error) {
	r, err := f.Open(ctx, "ecosystems.txt")
	if errors.Is(err, fs.ErrNotExist) {
		s.log().Info("osv: no ecosystems.txt, using the default list", "ecosystems", len(DefaultEcosystems))
		return DefaultEcosystems, nil
	}
	if err != nil {
		return nil, fmt.Errorf("osv: %w", err)
	}
	defer r.Close()
	var dirs []string
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for sc.Scan() {
		d := strings.TrimSpace(sc.Text())
		if supportedDir(d) {
			dirs = append(dirs, d)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("osv: ecosystems.txt: %w", err)
	}
	return dirs, nil
}

// loadDir spools <dir>/all.zip to a temporary file (zip needs random
// access) and streams its entries into sink.
func (s *Source) loadDir(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink, dir string) error {
	rel := dir + "/all.zip"
	r, err := f.Open(ctx, rel)
	if err != nil {
		return fmt.Errorf("osv: %w", err)
	}
	defer r.Close()
	spool, err := os.CreateTemp("", "vigil-osv-*.zip")
	if err != nil {
		return fmt.Errorf("osv: spool %s: %w", rel, err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	n, err := io.Copy(spool, io.LimitReader(r, maxZipSize+1))
	if err != nil {
		return fmt.Errorf("osv: download %s: %w", rel, err)
	}
	if n > maxZipSize {
		return fmt.Errorf("osv: %s is larger than %d bytes", rel, int64(maxZipSize))
	}
	zr, err := zip.NewReader(spool, n)
	if err != nil {
		return fmt.Errorf("osv: %s: %w", rel, err)
	}
	source := "osv:" + dir
	var records, skippedEco int
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if zf.FileInfo().IsDir() || path.Ext(zf.Name) != ".json" {
			continue
		}
		rec, err := readEntry(zf)
		if err != nil {
			s.log().Warn("osv: skipping malformed record", "zip", rel, "entry", zf.Name, "err", err)
			continue
		}
		c, err := convert(rec, source)
		if err != nil {
			s.log().Warn("osv: skipping malformed record", "zip", rel, "entry", zf.Name, "err", err)
			continue
		}
		skippedEco += len(c.skipped)
		if err := sink.PutVulnerability(ctx, c.vuln); err != nil {
			return fmt.Errorf("osv: %s %s: %w", rel, zf.Name, err)
		}
		for _, a := range c.affected {
			if err := sink.PutAffected(ctx, a); err != nil {
				return fmt.Errorf("osv: %s %s: %w", rel, zf.Name, err)
			}
		}
		records++
	}
	s.log().Debug("osv: loaded", "zip", rel, "records", records, "unmapped_affected", skippedEco)
	return nil
}

func readEntry(zf *zip.File) (*record, error) {
	if zf.UncompressedSize64 > maxRecordSize {
		return nil, fmt.Errorf("record is %d bytes, over the %d limit", zf.UncompressedSize64, maxRecordSize)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var rec record
	if err := json.NewDecoder(io.LimitReader(rc, maxRecordSize)).Decode(&rec); err != nil {
		return nil, err
	}
	return &rec, nil
}
