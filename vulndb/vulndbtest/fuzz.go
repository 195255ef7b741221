package vulndbtest

import (
	"context"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/vulndb"
)

// Func is a Fetcher over a function, so that one fuzz input can stand for
// any file a source asks for: open returns the file's contents, or false
// for a missing file.
type Func func(rel string) (string, bool)

// Open implements vulndb.Fetcher.
func (fn Func) Open(ctx context.Context, rel string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, ok := fn(rel)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: rel, Err: fs.ErrNotExist}
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

// ValidSink fails its test on a record the store would refuse: a source
// must log and skip a malformed record, not put it (which fails the
// build).
type ValidSink struct {
	T testing.TB
	N int // records put
}

// PutAffected checks a.
func (s *ValidSink) PutAffected(ctx context.Context, a vulndb.Affected) error {
	s.T.Helper()
	if err := a.Validate(); err != nil {
		s.T.Fatalf("source put a record the store refuses: %v", err)
	}
	s.N++
	return ctx.Err()
}

// PutVulnerability checks v.
func (s *ValidSink) PutVulnerability(ctx context.Context, v vulndb.Vulnerability) error {
	s.T.Helper()
	if err := v.Validate(); err != nil {
		s.T.Fatalf("source put a record the store refuses: %v", err)
	}
	s.N++
	return ctx.Err()
}

// fuzzTimeout bounds one Load in a fuzz target: the inputs are small, so
// a Load that takes longer is stuck.
const fuzzTimeout = 10 * time.Second

// FuzzLoad is the body of a fuzz target of a source: src.Load reads the
// files files serves (the fuzz input among them) into a ValidSink. Load may
// fail — malformed input may make a whole source unreadable — but it must
// not panic, put a record the store refuses, or run past fuzzTimeout.
func FuzzLoad(t *testing.T, src vulndb.Source, files Func) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fuzzTimeout)
	defer cancel()
	_ = src.Load(ctx, files, &ValidSink{T: t})
	if ctx.Err() != nil {
		t.Fatalf("%s: Load ran past %s", src.Name(), fuzzTimeout)
	}
}

// AddFiles adds the contents of each file as a seed of f (a string).
func AddFiles(f *testing.F, paths ...string) {
	f.Helper()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
}
