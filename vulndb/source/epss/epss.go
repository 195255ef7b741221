// Package epss reads FIRST's Exploit Prediction Scoring System scores,
// https://epss.cyentia.com/epss_scores-current.csv.gz.
//
// Format: gzip-compressed CSV (an uncompressed file is accepted too). The
// first line is a comment "#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000",
// then the header "cve,epss,percentile", then one row per CVE (~300,000).
// The file is streamed.
//
// Records: one Vulnerability per row with only ID, EPSS (score,
// percentile, and the score date as YYYY-MM-DD) and the source name.
// Limits: a file without the comment line is read with an empty date; rows
// that do not parse are logged and skipped.
package epss

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/feed"
)

// DefaultFile is the file read below the base unless Options.File is set.
const DefaultFile = "epss_scores-current.csv.gz"

// Options configure the source.
type Options struct {
	// File below the base; default DefaultFile.
	File string
	// Logger receives warnings; nil means slog.Default.
	Logger *slog.Logger
}

// Source is the EPSS feed.
type Source struct{ opts Options }

// New returns the source configured by opts.
func New(opts Options) *Source { return &Source{opts: opts} }

// Name returns "epss".
func (*Source) Name() string { return "epss" }

// DefaultBase returns https://epss.cyentia.com/.
func (*Source) DefaultBase() string { return "https://epss.cyentia.com/" }

// Load reads the score file.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	file := s.opts.File
	if file == "" {
		file = DefaultFile
	}
	rc, err := f.Open(ctx, file)
	if err != nil {
		return fmt.Errorf("epss: %w", err)
	}
	defer rc.Close()
	if err := parse(ctx, rc, file, sink, feed.Logger(s.opts.Logger)); err != nil {
		return fmt.Errorf("epss: %s: %w", file, err)
	}
	return nil
}

func parse(ctx context.Context, r io.Reader, file string, sink vulndb.Sink, log *slog.Logger) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return err
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	date, skipped := "", 0
	if b, err := br.Peek(1); err == nil && b[0] == '#' {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("reading the comment line: %w", err)
		}
		date, skipped = scoreDate(line), 1
	}
	if date == "" {
		log.Warn("epss: no score_date comment line", "file", file)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("reading the header: %w", err)
	}
	if len(header) < 3 || header[0] != "cve" || header[1] != "epss" || header[2] != "percentile" {
		return fmt.Errorf("unexpected header %q, want cve,epss,percentile", strings.Join(header, ","))
	}
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) && !errors.Is(err, io.ErrUnexpectedEOF) {
			log.Warn("epss: skipping malformed row", "file", file, "line", perr.StartLine+skipped, "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("after %d rows: %w", rows, err)
		}
		rows++
		v, err := row(rec, date)
		if err != nil {
			line, _ := cr.FieldPos(0)
			log.Warn("epss: skipping malformed row", "file", file, "line", line+skipped, "record", strings.Join(rec, ","), "err", err)
			continue
		}
		if err := sink.PutVulnerability(ctx, v); err != nil {
			return err
		}
	}
	if rows == 0 {
		return errors.New("no rows")
	}
	return nil
}

func row(rec []string, date string) (vulndb.Vulnerability, error) {
	if len(rec) < 3 {
		return vulndb.Vulnerability{}, errors.New("fewer than 3 fields")
	}
	if !feed.IsCVE(rec[0]) {
		return vulndb.Vulnerability{}, errors.New("not a CVE id")
	}
	score, err1 := strconv.ParseFloat(rec[1], 64)
	pct, err2 := strconv.ParseFloat(rec[2], 64)
	if err := errors.Join(err1, err2); err != nil {
		return vulndb.Vulnerability{}, err
	}
	if score < 0 || score > 1 || pct < 0 || pct > 1 {
		return vulndb.Vulnerability{}, errors.New("value outside [0,1]")
	}
	return vulndb.Vulnerability{
		ID:      rec[0],
		EPSS:    &vulndb.EPSS{Score: score, Percentile: pct, Date: date},
		Sources: []string{"epss"},
	}, nil
}

// scoreDate extracts YYYY-MM-DD from "#model_version:…,score_date:2025-02-20T…".
func scoreDate(line string) string {
	for _, kv := range strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "#")), ",") {
		k, v, ok := strings.Cut(kv, ":")
		if ok && strings.TrimSpace(k) == "score_date" {
			v = strings.TrimSpace(v)
			if len(v) >= 10 {
				return v[:10]
			}
		}
	}
	return ""
}
