// Package secdb parses the Alpine-style security database documents that
// Alpine (secdb.alpinelinux.org), Wolfi and Chainguard publish:
//
//	{"distroversion": "v3.19", "reponame": "main", "archs": […], "urlprefix": …,
//	 "packages": [{"pkg": {"name": "<origin>", "secfixes": {"<fixed>": ["CVE-… TALOS-…"]}}}]}
//
// Each secfixes key is the first fixed version of the listed ids; the key
// "0" says the ids never affected the package. The format cannot express
// "affected, no fix yet". Documents are read as JSON (streamed, one package
// at a time) or, for the old alpine-secdb layout, as YAML.
package secdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/feed"
)

// Package is one entry of a document's packages list.
type Package struct {
	Name     string              `json:"name" yaml:"name"`
	Secfixes map[string][]string `json:"secfixes" yaml:"secfixes"`
}

type entry struct {
	Pkg Package `json:"pkg" yaml:"pkg"`
}

// Format of a document.
type Format int

const (
	JSON Format = iota
	YAML
)

// Parse reads a document from r and calls fn for each well-formed package.
// Malformed packages are logged, naming file and position, and skipped; a
// document that cannot be read as a whole yields an error.
func Parse(r io.Reader, format Format, file string, log *slog.Logger, fn func(Package) error) error {
	if format == YAML {
		return parseYAML(r, file, log, fn)
	}
	dec := json.NewDecoder(r)
	found := false
	err := feed.Object(dec, func(key string) error {
		if key != "packages" {
			return feed.Skip(dec)
		}
		found = true
		i := 0
		return feed.Array(dec, func() error {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			i++
			var e entry
			err := json.Unmarshal(raw, &e)
			if err == nil && e.Pkg.Name == "" {
				err = errNoName
			}
			if err != nil {
				log.Warn("skipping malformed secdb package", "file", file, "index", i-1, "record", snippet(raw), "err", err)
				return nil
			}
			return fn(normalize(e.Pkg, file, log))
		})
	})
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if !found {
		return fmt.Errorf("%s: no packages list", file)
	}
	return nil
}

func parseYAML(r io.Reader, file string, log *slog.Logger, fn func(Package) error) error {
	b, err := feed.ReadAll(r, feed.MaxDocument)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var doc struct {
		Packages []yaml.Node `yaml:"packages"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if doc.Packages == nil {
		return fmt.Errorf("%s: no packages list", file)
	}
	for i, n := range doc.Packages {
		var e entry
		err := n.Decode(&e)
		if err == nil && e.Pkg.Name == "" {
			err = errNoName
		}
		if err != nil {
			log.Warn("skipping malformed secdb package", "file", file, "index", i, "line", n.Line, "err", err)
			continue
		}
		if err := fn(normalize(e.Pkg, file, log)); err != nil {
			return err
		}
	}
	return nil
}

// normalize rewrites the ids of p's entries that upstream mistyped
// ("CVE_2019-2426") as what they mean, with a warning naming the file:
// dropped silently, such an id would be a missed finding.
func normalize(p Package, file string, log *slog.Logger) Package {
	for ver, entries := range p.Secfixes {
		for i, e := range entries {
			fields := strings.Fields(e)
			changed := false
			for j, f := range fields {
				if id, ok := feed.NormalizeID(f); ok {
					log.Warn("secdb: reading an upstream id as what it means", "file", file, "package", p.Name, "version", ver, "written", f, "read", id)
					fields[j], changed = id, true
				}
			}
			if changed {
				entries[i] = strings.Join(fields, " ")
			}
		}
	}
	return p
}

var errNoName = errors.New("package has no name")

func snippet(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 80 {
		raw = raw[:80]
	}
	return string(raw)
}

// idPattern accepts advisory ids such as CVE-2019-5060, TALOS-2019-0844,
// GHSA-xxxx-xxxx-xxxx, XSA-123; it rejects comment words.
var idPattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*$`)

// SplitIDs splits one secfixes entry ("CVE-2019-5060 TALOS-2019-0844",
// "CVE-2017-2616 (+ regression fix)") into its ids.
func SplitIDs(s string) []string {
	var ids []string
	for _, f := range strings.Fields(s) {
		if idPattern.MatchString(f) {
			ids = append(ids, f)
		}
	}
	return ids
}

// Entry splits one secfixes entry into the id its records are filed
// under and the other ids naming the same vulnerability: an entry such as
// "CVE-2019-5060 TALOS-2019-0844" is one vulnerability, filed under its
// CVE (the first CVE, else the first id) with the rest as aliases. ok is
// false when the entry holds no id.
func Entry(s string) (id string, aliases []string, ok bool) {
	ids := SplitIDs(s)
	if len(ids) == 0 {
		return "", nil, false
	}
	primary := 0
	if i := slices.IndexFunc(ids, func(x string) bool { return strings.HasPrefix(x, "CVE-") }); i >= 0 {
		primary = i
	}
	for i, x := range ids {
		if i != primary && x != ids[primary] {
			aliases = append(aliases, x)
		}
	}
	return ids[primary], aliases, true
}

// Affected turns one package into records, one per vulnerability (see
// Entry), sorted by id. All fixed versions naming an id are listed lowest
// first (natural order, see feed.NaturalLess), each as its own range opened
// at "0", so a version is affected below the highest of them. Key "0"
// yields a not_affected record.
func Affected(source, ecosystem string, p Package) []vulndb.Affected {
	fixed := map[string][]string{}
	notAffected := map[string]bool{}
	keys := slices.SortedFunc(maps.Keys(p.Secfixes), func(a, b string) int {
		switch {
		case feed.NaturalLess(a, b):
			return -1
		case feed.NaturalLess(b, a):
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, ver := range keys {
		for _, entry := range p.Secfixes[ver] {
			id, _, ok := Entry(entry)
			if !ok {
				continue
			}
			if ver == "0" {
				notAffected[id] = true
				continue
			}
			if !slices.Contains(fixed[id], ver) {
				fixed[id] = append(fixed[id], ver)
			}
		}
	}
	var out []vulndb.Affected
	for _, id := range slices.Sorted(maps.Keys(notAffected)) {
		out = append(out, vulndb.Affected{
			VulnID: id, Source: source, Ecosystem: ecosystem, Package: p.Name,
			Status: vulndb.StatusNotAffected,
		})
	}
	for _, id := range slices.Sorted(maps.Keys(fixed)) {
		vers := fixed[id]
		a := vulndb.Affected{
			VulnID: id, Source: source, Ecosystem: ecosystem, Package: p.Name,
			Fixed: vers, Status: vulndb.StatusFixed,
		}
		for _, v := range vers {
			a.Ranges = append(a.Ranges, vulndb.Range{
				Scheme: vulndb.SchemeAPK,
				Events: []vulndb.Event{{Introduced: "0"}, {Fixed: v}},
			})
		}
		out = append(out, a)
	}
	return out
}

// Vulnerabilities returns one record per vulnerability of p that entries
// name under more than one id, carrying the other ids as aliases.
func Vulnerabilities(source string, p Package) []vulndb.Vulnerability {
	aliases := map[string][]string{}
	for _, entries := range p.Secfixes {
		for _, entry := range entries {
			id, more, ok := Entry(entry)
			if !ok {
				continue
			}
			for _, a := range more {
				if !slices.Contains(aliases[id], a) {
					aliases[id] = append(aliases[id], a)
				}
			}
		}
	}
	var out []vulndb.Vulnerability
	for _, id := range slices.Sorted(maps.Keys(aliases)) {
		if len(aliases[id]) == 0 {
			continue
		}
		slices.Sort(aliases[id])
		out = append(out, vulndb.Vulnerability{ID: id, Aliases: aliases[id], Sources: []string{source}})
	}
	return out
}

// Load parses one document and puts its records into sink.
func Load(ctx context.Context, r io.Reader, format Format, file, source, ecosystem string, sink vulndb.Sink, log *slog.Logger) error {
	return Parse(r, format, file, log, func(p Package) error {
		for _, a := range Affected(source, ecosystem, p) {
			if err := sink.PutAffected(ctx, a); err != nil {
				return err
			}
		}
		for _, v := range Vulnerabilities(source, p) {
			if err := sink.PutVulnerability(ctx, v); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}
