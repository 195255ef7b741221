package server

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-scanner/vigil/alert"
	"github.com/vigil-scanner/vigil/image/pick"
	"github.com/vigil-scanner/vigil/internal/glob"
)

// Config is the server's configuration file (docs/server.md documents
// every key, with a complete example).
type Config struct {
	// Listen is the address the API listens on; default 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// TLS serves HTTPS with this certificate and key.
	TLS *TLSConfig `yaml:"tls"`
	// Store is sqlite:///PATH or postgres://…; default a SQLite file in
	// the cache directory.
	Store    string         `yaml:"store"`
	Database DatabaseConfig `yaml:"database"`
	// Registries are the registries watched.
	Registries []RegistryConfig `yaml:"registries"`
	// Alerts are the alert routes (package alert's Route).
	Alerts []alert.Route `yaml:"alerts"`
	// Policy filters findings before they are stored and alerted on.
	Policy PolicyConfig `yaml:"policy"`
	// Tokens are the bearer tokens accepted by the API.
	Tokens []TokenConfig `yaml:"tokens"`
	// Auth: "tokens" (the default) or "none", which serves the API
	// without authentication — allowed only on a loopback address.
	Auth string `yaml:"auth"`
	// AllowPlainHTTPTokens accepts tokens over plain HTTP from
	// non-loopback clients (behind a TLS-terminating proxy).
	AllowPlainHTTPTokens bool `yaml:"allowPlainHTTPTokens"`
	// Workers is the number of jobs run at once; default 2.
	Workers int `yaml:"workers"`
	// Lease is how long a job is reserved for this server; default 2m.
	Lease Duration `yaml:"lease"`

	path string
	root *yaml.Node
}

// TLSConfig names a certificate and key file.
type TLSConfig struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// DatabaseConfig says where the vulnerability database is and how it is
// kept up to date.
type DatabaseConfig struct {
	// CacheDir holds the database (CacheDir/db: index and parts), the layer cache
	// and, by default, the SQLite store.
	CacheDir string `yaml:"cacheDir"`
	// SkipUpdate never downloads: the database in CacheDir is used as it
	// is, and re-read whenever it is replaced (vigil db build/update).
	SkipUpdate bool `yaml:"skipUpdate"`
	// Repositories are the OCI repositories to update from.
	Repositories []string `yaml:"repositories"`
	// Refresh is how often to download a newer database; default 1h.
	Refresh Duration `yaml:"refresh"`
	// Check is how often the database file is checked for a change (a
	// stat; the file is hashed only when it changed); default 10s.
	Check Duration `yaml:"check"`
}

// RegistryConfig is one watched registry.
type RegistryConfig struct {
	// URL is the registry's host[:port] (a scheme is allowed and dropped).
	URL string `yaml:"url"`
	// Insecure allows plain HTTP and self-signed TLS.
	Insecure bool `yaml:"insecure"`
	// UsernameEnv and PasswordEnv name environment variables holding the
	// credentials; Username may be given literally. Without them the
	// Docker config (and its credential helpers) is used.
	Username    string `yaml:"username"`
	UsernameEnv string `yaml:"usernameEnv"`
	PasswordEnv string `yaml:"passwordEnv"`
	// Repositories are globs choosing repositories from the catalog ("*"
	// alone: all); List names them where the catalog is disabled.
	Repositories []string   `yaml:"repositories"`
	List         []string   `yaml:"list"`
	Exclude      []string   `yaml:"exclude"`
	Tags         TagsConfig `yaml:"tags"`
	// Platforms scanned in multi-platform images; default linux/amd64.
	Platforms []string `yaml:"platforms"`
	// Interval or Schedule (cron: "*/5 * * * *") say when to list.
	Interval Duration `yaml:"interval"`
	Schedule string   `yaml:"schedule"`
	PageSize int      `yaml:"pageSize"`
}

// TagsConfig chooses tags.
type TagsConfig struct {
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
	Regex   string   `yaml:"regex"`
	Newest  int      `yaml:"newest"`
	// By is "semver" or "pushed" (for newest).
	By string `yaml:"by"`
}

// PolicyConfig filters findings.
type PolicyConfig struct {
	Severities    []string `yaml:"severities"`
	IgnoreUnfixed bool     `yaml:"ignoreUnfixed"`
	IgnoreFile    string   `yaml:"ignoreFile"`
	VEX           []string `yaml:"vex"`
}

// Token scopes.
const (
	ScopeRead  = "read"
	ScopeAdmin = "admin"
)

// TokenConfig is one accepted bearer token, stored hashed.
type TokenConfig struct {
	Name  string `yaml:"name"`
	Scope string `yaml:"scope"`
	// Hash is "sha256:<hex>" of the token; HashFile names a file holding
	// it (as `vigil server token` writes).
	Hash     string `yaml:"hash"`
	HashFile string `yaml:"hashFile"`
}

// Duration is a time.Duration written as "30s", "5m", "1h".
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration (30s, 5m, 1h)", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MaxConfigSize bounds a configuration file.
const MaxConfigSize = 1 << 20

// LoadConfig reads and checks a configuration file. Errors name the file,
// the line and the key; unknown keys are errors.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

var (
	unknownKey = regexp.MustCompile(`line (\d+): field (\S+) not found in type`)
	lineMsg    = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// ParseConfig parses a configuration held in data, read from path.
func ParseConfig(path string, data []byte) (*Config, error) {
	if len(data) > MaxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxConfigSize)
	}
	c := &Config{path: path}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	c.root = &root
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			var errs []error
			for _, e := range te.Errors {
				if m := unknownKey.FindStringSubmatch(e); m != nil {
					errs = append(errs, fmt.Errorf("%s:%s: unknown key %q", path, m[1], m[2]))
				} else if m := lineMsg.FindStringSubmatch(e); m != nil {
					errs = append(errs, fmt.Errorf("%s:%s: %s", path, m[1], m[2]))
				} else {
					errs = append(errs, fmt.Errorf("%s: %s", path, e))
				}
			}
			return nil, errors.Join(errs...)
		}
		if err.Error() == "EOF" {
			return nil, fmt.Errorf("%s: empty configuration", path)
		}
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// at returns "FILE:LINE: key" for the node at path (keys and indexes),
// or the nearest ancestor present.
func (c *Config) at(path ...any) string {
	n := c.root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 1
	var keys []string
	for _, p := range path {
		if n == nil {
			break
		}
		switch k := p.(type) {
		case string:
			keys = append(keys, k)
			var next *yaml.Node
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						line = n.Content[i].Line
						next = n.Content[i+1]
					}
				}
			}
			n = next
		case int:
			keys[len(keys)-1] += "[" + strconv.Itoa(k) + "]"
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				n = n.Content[k]
				line = n.Line
			} else {
				n = nil
			}
		}
	}
	return fmt.Sprintf("%s:%d: %s", c.path, line, strings.Join(keys, "."))
}

func (c *Config) validate() error {
	var errs []error
	bad := func(where, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
	}
	switch c.Auth {
	case "", "tokens", "none":
	default:
		bad(c.at("auth"), "%q: want tokens or none", c.Auth)
	}
	if c.Store != "" && !strings.HasPrefix(c.Store, "sqlite://") && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		bad(c.at("store"), "want sqlite:///PATH or postgres://…")
	}
	seen := map[string]bool{}
	for i := range c.Registries {
		r := &c.Registries[i]
		r.URL = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(r.URL, "https://"), "http://"), "/")
		switch {
		case r.URL == "":
			bad(c.at("registries", i), "url is required")
		case seen[r.URL]:
			bad(c.at("registries", i, "url"), "registry %s listed twice", r.URL)
		}
		seen[r.URL] = true
		for j, p := range append(append(slicesOf(r.Repositories), r.Exclude...), append(r.Tags.Include, r.Tags.Exclude...)...) {
			if err := glob.Validate(p); err != nil {
				bad(c.at("registries", i), "pattern %d: %v", j, err)
			}
		}
		if r.Tags.Regex != "" {
			if _, err := regexp.Compile(r.Tags.Regex); err != nil {
				bad(c.at("registries", i, "tags", "regex"), "%v", err)
			}
		}
		if r.Tags.Newest > 0 && r.Tags.By != "semver" && r.Tags.By != "pushed" {
			bad(c.at("registries", i, "tags", "by"), "%q: newest needs by: semver or pushed", r.Tags.By)
		}
		if r.Tags.Newest < 0 {
			bad(c.at("registries", i, "tags", "newest"), "cannot be negative")
		}
		for j, p := range r.Platforms {
			if _, err := pick.ParsePlatform(p); err != nil {
				bad(c.at("registries", i, "platforms", j), "%v", err)
			}
		}
		if r.Interval > 0 && r.Schedule != "" {
			bad(c.at("registries", i, "schedule"), "give interval or schedule, not both")
		}
		if r.Interval > 0 && time.Duration(r.Interval) < time.Second {
			bad(c.at("registries", i, "interval"), "at least 1s")
		}
		if r.Schedule != "" {
			if _, err := cron.ParseStandard(r.Schedule); err != nil {
				bad(c.at("registries", i, "schedule"), "%v", err)
			}
		}
		if r.Username != "" && r.UsernameEnv != "" {
			bad(c.at("registries", i, "usernameEnv"), "give username or usernameEnv, not both")
		}
	}
	names := map[string]bool{}
	for i := range c.Alerts {
		r := &c.Alerts[i]
		if err := r.Validate(); err != nil {
			var fe *alert.FieldError
			for _, e := range unjoin(err) {
				if errors.As(e, &fe) {
					key := strings.SplitN(fe.Key, "[", 2)[0]
					bad(c.at("alerts", i, key), "%s", fe.Msg)
				} else {
					bad(c.at("alerts", i), "%v", e)
				}
			}
		}
		n := routeName(r)
		if names[n] {
			bad(c.at("alerts", i, "name"), "two alert routes named %q", n)
		}
		names[n] = true
	}
	for i, t := range c.Tokens {
		if t.Name == "" {
			bad(c.at("tokens", i), "name is required")
		}
		if t.Scope != ScopeRead && t.Scope != ScopeAdmin {
			bad(c.at("tokens", i, "scope"), "%q: want read or admin", t.Scope)
		}
		if (t.Hash == "") == (t.HashFile == "") {
			bad(c.at("tokens", i), "give hash or hashFile")
		}
	}
	for _, s := range c.Policy.Severities {
		switch strings.ToUpper(s) {
		case "CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN":
		default:
			bad(c.at("policy", "severities"), "%q: want CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN", s)
		}
	}
	if c.Workers < 0 {
		bad(c.at("workers"), "cannot be negative")
	}
	return errors.Join(errs...)
}

func slicesOf(s []string) []string {
	out := make([]string, 0, len(s))
	for _, p := range s {
		if p != "*" {
			out = append(out, p)
		}
	}
	return out
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// routeName is a route's name in the outbox: its configured name, else
// its type and a hash of its destination, so that reordering routes in
// the file does not send their alerts again.
func routeName(r *alert.Route) string {
	if r.Name != "" {
		return r.Name
	}
	dest := r.URL + r.URLEnv + r.SMTP + strings.Join(r.To, ",")
	return r.Type + "-" + shortHash(dest)
}
