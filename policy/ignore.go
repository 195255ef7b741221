package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-scanner/vigil/match"
)

// IgnoreRule is one entry of an ignore file.
type IgnoreRule struct {
	// ID is the vulnerability id; a finding matches when its id or one of
	// its aliases equals it.
	ID string
	// Purls, Packages and Paths scope the rule; empty means every package.
	// A purl without a version matches every version of the package.
	Purls    []string
	Packages []string
	Paths    []string // targets (lockfile paths), path.Match patterns
	// ExpiresAt is when the rule stops applying; zero means never.
	ExpiresAt time.Time
	Statement string
	// Where is "FILE:LINE" (plain form) or "FILE: vulnerabilities[N]".
	Where string
}

// ignoreYAML is the YAML ignore file form, which Trivy's .trivyignore.yaml
// users will recognise.
type ignoreYAML struct {
	Vulnerabilities []struct {
		ID        string   `yaml:"id"`
		Purls     []string `yaml:"purls"`
		Packages  []string `yaml:"packages"`
		Paths     []string `yaml:"paths"`
		ExpiredAt string   `yaml:"expired_at"`
		Statement string   `yaml:"statement"`
	} `yaml:"vulnerabilities"`
}

// LoadIgnoreFile reads an ignore file: either plain (one id per line, "#"
// comments, an optional " exp:YYYY-MM-DD" expiry after the id) or YAML
// (a "vulnerabilities:" list of {id, purls, packages, paths, expired_at,
// statement}). A missing file is not an error when optional is true.
func LoadIgnoreFile(name string, optional bool) ([]IgnoreRule, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("ignore file: %w", err)
	}
	return parseIgnore(name, data)
}

// parseIgnore reads the ignore file name holding data, in either form.
func parseIgnore(name string, data []byte) ([]IgnoreRule, error) {
	if isYAMLIgnore(name, data) {
		return parseIgnoreYAML(name, data)
	}
	return parseIgnorePlain(name, data)
}

func isYAMLIgnore(name string, data []byte) bool {
	if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
		return true
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		return strings.HasPrefix(line, "vulnerabilities:")
	}
	return false
}

func parseIgnorePlain(name string, data []byte) ([]IgnoreRule, error) {
	var rules []IgnoreRule
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		comment := ""
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line, comment = line[:i], strings.TrimSpace(line[i+1:])
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		r := IgnoreRule{ID: fields[0], Statement: comment, Where: fmt.Sprintf("%s:%d", name, n)}
		for _, f := range fields[1:] {
			exp, ok := strings.CutPrefix(f, "exp:")
			if !ok {
				return nil, fmt.Errorf("%s:%d: unexpected %q after the id (want exp:YYYY-MM-DD)", name, n, f)
			}
			t, err := time.Parse(time.DateOnly, exp)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: expiry %q: want YYYY-MM-DD", name, n, exp)
			}
			r.ExpiresAt = t
		}
		rules = append(rules, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rules, nil
}

func parseIgnoreYAML(name string, data []byte) ([]IgnoreRule, error) {
	var doc ignoreYAML
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	rules := make([]IgnoreRule, 0, len(doc.Vulnerabilities))
	for i, v := range doc.Vulnerabilities {
		where := fmt.Sprintf("%s: vulnerabilities[%d]", name, i)
		if v.ID == "" {
			return nil, fmt.Errorf("%s: no id", where)
		}
		r := IgnoreRule{ID: v.ID, Purls: v.Purls, Packages: v.Packages, Paths: v.Paths, Statement: v.Statement, Where: where}
		for _, p := range v.Purls {
			if _, err := packageurl.FromString(p); err != nil {
				return nil, fmt.Errorf("%s: purl %q: %w", where, p, err)
			}
		}
		for _, p := range v.Paths {
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("%s: path pattern %q: %w", where, p, err)
			}
		}
		if v.ExpiredAt != "" {
			t, err := time.Parse(time.DateOnly, v.ExpiredAt)
			if err != nil {
				return nil, fmt.Errorf("%s: expired_at %q: want YYYY-MM-DD", where, v.ExpiredAt)
			}
			r.ExpiresAt = t
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// Expired reports whether the rule no longer applies at now. A rule
// expiring on a date applies through the end of the day before it.
func (r IgnoreRule) Expired(now time.Time) bool {
	return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt)
}

// Matches reports whether the rule covers finding f in target.
func (r IgnoreRule) Matches(f *match.Finding, target string) bool {
	if f.ID != r.ID && !slices.Contains(f.Aliases, r.ID) {
		return false
	}
	if len(r.Packages) > 0 && !slices.Contains(r.Packages, f.PkgName) {
		return false
	}
	if len(r.Purls) > 0 && !slices.ContainsFunc(r.Purls, func(p string) bool { return purlCovers(p, f.PkgPurl) }) {
		return false
	}
	if len(r.Paths) > 0 && !slices.ContainsFunc(r.Paths, func(p string) bool {
		ok, _ := path.Match(p, target)
		return ok || p == target
	}) {
		return false
	}
	return true
}

// purlCovers reports whether the purl pattern names the package purl: same
// type, namespace and name; the same version unless the pattern has none;
// and every qualifier the pattern gives.
func purlCovers(pattern, purl string) bool {
	if purl == "" {
		return false
	}
	p, err := packageurl.FromString(pattern)
	if err != nil {
		return false
	}
	u, err := packageurl.FromString(purl)
	if err != nil {
		return false
	}
	if p.Type != u.Type || !strings.EqualFold(p.Namespace, u.Namespace) || p.Name != u.Name {
		return false
	}
	if p.Version != "" && p.Version != u.Version {
		return false
	}
	have := u.Qualifiers.Map()
	for k, v := range p.Qualifiers.Map() {
		if have[k] != v {
			return false
		}
	}
	return true
}
