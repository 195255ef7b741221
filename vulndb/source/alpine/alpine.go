// Package alpine reads the Alpine Linux security database (secdb),
// https://secdb.alpinelinux.org/.
//
// Layout: <base>/<release>/<repo>.json (or the same document as .yaml, the
// format of the archived alpinelinux/alpine-secdb repository), with release
// directories "v3.19", …, "edge" listed by the base's HTML index. Document
// format: see package vulndb/source/internal/secdb.
//
// Records: one Affected per (release, origin package, id), ecosystem
// "alpine:3.19" ("alpine:edge" for edge), scheme apk, package = the origin
// (aports) name that apk records as "o:". A secfixes key is the first fixed
// version (status fixed, range introduced "0" → fixed); key "0" means not
// affected. An entry such as "CVE-2019-5060 TALOS-2019-0844" is one
// vulnerability: its records are filed under the CVE and a Vulnerability
// gives the other ids as aliases. Comment words ("(+ regression fix)") are
// dropped.
//
// Limits: the secdb only records fixes, so unfixed vulnerabilities never
// appear here; the separate security-rejections list is not read; fixed
// versions without "-rN" are passed through as written.
package alpine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"strings"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/feed"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/secdb"
)

// Options configure the source.
type Options struct {
	// Releases to read ("v3.19", "3.19" or "edge"). Empty means every
	// release the base's index lists.
	Releases []string
	// Repos to read in each release; default "main" and "community".
	Repos []string
	// Logger receives warnings; nil means slog.Default.
	Logger *slog.Logger
}

// Source is the Alpine secdb feed.
type Source struct{ opts Options }

// New returns the source configured by opts.
func New(opts Options) *Source { return &Source{opts: opts} }

// Name returns "alpine".
func (*Source) Name() string { return "alpine" }

// DefaultBase returns https://secdb.alpinelinux.org/.
func (*Source) DefaultBase() string { return "https://secdb.alpinelinux.org/" }

// Load reads every configured release and repository. A repository missing
// from a release is logged and skipped.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	log := feed.Logger(s.opts.Logger)
	releases := s.opts.Releases
	if len(releases) == 0 {
		var err error
		if releases, err = discover(ctx, f); err != nil {
			return err
		}
	}
	repos := s.opts.Repos
	if len(repos) == 0 {
		repos = []string{"main", "community"}
	}
	for _, rel := range releases {
		dir, eco := normalise(rel)
		for _, repo := range repos {
			if err := s.loadRepo(ctx, f, sink, log, dir, repo, eco); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Source) loadRepo(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink, log *slog.Logger, dir, repo, eco string) error {
	for _, c := range []struct {
		ext    string
		format secdb.Format
	}{{".json", secdb.JSON}, {".yaml", secdb.YAML}} {
		file := dir + "/" + repo + c.ext
		rc, err := f.Open(ctx, file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("alpine: %w", err)
		}
		err = secdb.Load(ctx, rc, c.format, file, "alpine", eco, sink, log)
		rc.Close()
		if err != nil {
			return fmt.Errorf("alpine: %w", err)
		}
		return nil
	}
	log.Warn("alpine: repository not found, skipped", "release", dir, "repo", repo)
	return nil
}

// normalise returns the directory ("v3.19") and ecosystem ("alpine:3.19")
// of a configured release.
func normalise(rel string) (dir, eco string) {
	rel = strings.TrimSuffix(strings.TrimSpace(rel), "/")
	v := strings.TrimPrefix(rel, "v")
	if v == "edge" {
		return "edge", "alpine:edge"
	}
	return "v" + v, "alpine:" + v
}

var hrefRelease = regexp.MustCompile(`href="(?:\./)?(v[0-9]+\.[0-9]+|edge)/"`)

// discover lists the release directories of the base's HTML index.
func discover(ctx context.Context, f vulndb.Fetcher) ([]string, error) {
	rc, err := f.Open(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("alpine: reading the release index: %w", err)
	}
	defer rc.Close()
	b, err := feed.ReadAll(rc, 4<<20)
	if err != nil {
		return nil, fmt.Errorf("alpine: reading the release index: %w", err)
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range hrefRelease.FindAllSubmatch(b, -1) {
		r := string(m[1])
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("alpine: the release index lists no release directories")
	}
	return out, nil
}
