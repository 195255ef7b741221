// Package vulndbtest holds test doubles for vulndb — an in-memory Sink, a
// directory Fetcher, a logger that records warnings — and Whole, which
// checks that a database on disk is whole.
package vulndbtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb"
)

// Sink records every record it is given, in order, without merging.
type Sink struct {
	mu              sync.Mutex
	Affected        []vulndb.Affected
	Vulnerabilities []vulndb.Vulnerability
}

// PutAffected records a.
func (s *Sink) PutAffected(ctx context.Context, a vulndb.Affected) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Affected = append(s.Affected, a)
	return ctx.Err()
}

// PutVulnerability records v.
func (s *Sink) PutVulnerability(ctx context.Context, v vulndb.Vulnerability) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Vulnerabilities = append(s.Vulnerabilities, v)
	return ctx.Err()
}

// FindAffected returns the records for id and package in ecosystem, in the
// order they were put.
func (s *Sink) FindAffected(ecosystem, pkg, id string) []vulndb.Affected {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []vulndb.Affected
	for _, a := range s.Affected {
		if a.Ecosystem == ecosystem && a.Package == pkg && a.VulnID == id {
			out = append(out, a)
		}
	}
	return out
}

// FindVulnerability returns every record put for id, in order.
func (s *Sink) FindVulnerability(id string) []vulndb.Vulnerability {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []vulndb.Vulnerability
	for _, v := range s.Vulnerabilities {
		if v.ID == id {
			out = append(out, v)
		}
	}
	return out
}

// Dir is a Fetcher reading files below a local directory. The empty path
// opens "index.html" when it exists.
type Dir string

// Open opens rel below the directory; paths that leave it are refused.
func (d Dir) Open(ctx context.Context, rel string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rel == "" {
		rel = "index.html"
	}
	clean := path.Clean(rel)
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return nil, fmt.Errorf("open %q: path escapes the mirror", rel)
	}
	f, err := os.Open(filepath.Join(string(d), filepath.FromSlash(clean)))
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: rel, Err: fs.ErrNotExist}
	}
	return f, nil
}

// Files is a Fetcher serving in-memory files by relative path.
type Files map[string]string

// Open returns the named file or an error matching fs.ErrNotExist.
func (m Files) Open(ctx context.Context, rel string) (io.ReadCloser, error) {
	s, ok := m[rel]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: rel, Err: fs.ErrNotExist}
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

// Log is a logger whose text output is kept for assertions.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Logger returns a logger writing to l at level Debug.
func (l *Log) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Write implements io.Writer for the handler.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Warnings returns the logged lines at level WARN.
func (l *Log) Warnings() []string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, "level=WARN") {
			out = append(out, line)
		}
	}
	return out
}

// ErrFetcher fails every Open with Err.
type ErrFetcher struct{ Err error }

// Open returns f.Err.
func (f ErrFetcher) Open(context.Context, string) (io.ReadCloser, error) {
	if f.Err == nil {
		return nil, errors.New("fetch failed")
	}
	return nil, f.Err
}

// Whole reads the index of the database in dir and checks every part it
// lists as present against the content digest it records
// (vulndb.CheckPart); it fails t when the database is not whole.
func Whole(t testing.TB, dir string) *vulndb.Index {
	t.Helper()
	idx, err := vulndb.ReadIndex(dir)
	if err != nil {
		t.Fatalf("database %s: %v", dir, err)
	}
	for _, p := range idx.Parts {
		if !p.Local {
			continue
		}
		pf, err := vulndb.CheckPart(vulndb.PartPath(dir, p.Content))
		if err != nil || pf.Content != p.Content {
			t.Fatalf("database %s: part %s: %+v, %v", dir, p.PartKey, pf, err)
		}
	}
	return idx
}
