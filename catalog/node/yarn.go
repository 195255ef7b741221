package node

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-scanner/vigil/inventory"
)

// parseYarnLock reads a yarn.lock: Berry (YAML with __metadata) or classic
// v1 (yarn's own indented format).
func parseYarnLock(b []byte, root *packageJSON) ([]inventory.Package, error) {
	if bytes.Contains(b, []byte("\n__metadata:")) || bytes.HasPrefix(b, []byte("__metadata:")) {
		return parseYarnBerry(b, root)
	}
	return parseYarnClassic(b, root)
}

// yarnEntry is one lockfile entry: the descriptors it satisfies
// ("name@range"), the resolved name and version, and its dependencies as
// descriptors.
type yarnEntry struct {
	descriptors []string
	name        string
	version     string
	deps        []string
}

// descriptorName splits "name@range" (name may start with '@').
func descriptorName(d string) (name, rng string) {
	i := strings.IndexByte(d[min(1, len(d)):], '@')
	if i < 0 {
		return d, ""
	}
	i++
	return d[:i], d[i+1:]
}

func parseYarnClassic(b []byte, root *packageJSON) ([]inventory.Package, error) {
	var (
		entries []*yarnEntry
		cur     *yarnEntry
		inDeps  bool
		lineNo  int
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case indent == 0:
			if !strings.HasSuffix(trimmed, ":") {
				return nil, fmt.Errorf("line %d: expected an entry header", lineNo)
			}
			cur = &yarnEntry{}
			for _, d := range strings.Split(strings.TrimSuffix(trimmed, ":"), ",") {
				if d = unquote(strings.TrimSpace(d)); d != "" {
					cur.descriptors = append(cur.descriptors, d)
				}
			}
			if len(cur.descriptors) > 0 {
				cur.name, _ = descriptorName(cur.descriptors[0])
			}
			entries = append(entries, cur)
			inDeps = false
		case cur == nil:
			return nil, fmt.Errorf("line %d: field outside an entry", lineNo)
		case indent <= 2:
			key, val, _ := strings.Cut(trimmed, " ")
			inDeps = key == "dependencies:" || key == "optionalDependencies:"
			if key == "version" {
				cur.version = unquote(strings.TrimSpace(val))
			}
		case inDeps:
			key, val, ok := strings.Cut(trimmed, " ")
			if ok {
				cur.deps = append(cur.deps, unquote(key)+"@"+unquote(strings.TrimSpace(val)))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	// Aliases: "alias@npm:real@^1" resolves to the real package.
	for _, e := range entries {
		for _, d := range e.descriptors {
			if _, rng := descriptorName(d); strings.HasPrefix(rng, "npm:") {
				if n, _ := descriptorName(strings.TrimPrefix(rng, "npm:")); n != "" {
					e.name = n
				}
			}
		}
	}
	return yarnPackages(entries, root, func(name, rng string) string { return name + "@" + rng }), nil
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

type berryEntry struct {
	Version              string            `yaml:"version"`
	Resolution           string            `yaml:"resolution"`
	Dependencies         map[string]string `yaml:"dependencies"`
	OptionalDependencies map[string]string `yaml:"optionalDependencies"`
}

func parseYarnBerry(b []byte, root *packageJSON) ([]inventory.Package, error) {
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var (
		entries   []*yarnEntry
		workspace []string
	)
	for _, k := range keys {
		if k == "__metadata" {
			continue
		}
		node := doc[k]
		var be berryEntry
		if err := node.Decode(&be); err != nil {
			return nil, fmt.Errorf("entry %q: %w", k, err)
		}
		name, ref := descriptorName(be.Resolution)
		e := &yarnEntry{name: name, version: be.Version}
		for _, d := range strings.Split(k, ",") {
			if d = strings.TrimSpace(d); d != "" {
				e.descriptors = append(e.descriptors, d)
			}
		}
		for _, deps := range []map[string]string{be.Dependencies, be.OptionalDependencies} {
			for dep, rng := range deps {
				e.deps = append(e.deps, berryDescriptor(dep, rng))
			}
		}
		switch {
		case strings.HasPrefix(ref, "workspace:"):
			// The project itself: its dependencies are the direct ones.
			workspace = append(workspace, e.deps...)
			continue
		case !strings.HasPrefix(ref, "npm:"):
			// patch:, link:, portal:, file:, git and exec sources are
			// not registry packages.
			continue
		}
		entries = append(entries, e)
	}
	pkgs := yarnPackages(entries, root, berryDescriptor)
	if root == nil && len(workspace) > 0 {
		idOf := descriptorIDs(entries)
		direct := map[string]bool{}
		for _, d := range workspace {
			if id, ok := idOf[d]; ok {
				direct[id] = true
			}
		}
		for i := range pkgs {
			pkgs[i].Indirect = !direct[pkgs[i].ID]
		}
	}
	return pkgs, nil
}

// berryDescriptor writes a dependency as Berry's lockfile keys do: a range
// without protocol means npm:.
func berryDescriptor(name, rng string) string {
	if !strings.Contains(rng, ":") {
		rng = "npm:" + rng
	}
	return name + "@" + rng
}

func descriptorIDs(entries []*yarnEntry) map[string]string {
	idOf := map[string]string{}
	for _, e := range entries {
		for _, d := range e.descriptors {
			idOf[d] = e.name + "@" + e.version
		}
	}
	return idOf
}

// yarnPackages turns entries into packages, resolving dependency
// descriptors, and uses the project's package.json, when known, for the
// direct and dev flags.
func yarnPackages(entries []*yarnEntry, root *packageJSON, descriptor func(name, rng string) string) []inventory.Package {
	idOf := descriptorIDs(entries)
	var pkgs []inventory.Package
	for _, e := range entries {
		if e.name == "" || !registryVersion(e.version) {
			continue
		}
		p := newPackage(e.name, e.version)
		for _, d := range e.deps {
			if id, ok := idOf[d]; ok {
				p.DependsOn = append(p.DependsOn, id)
			}
		}
		pkgs = append(pkgs, p)
	}
	if root != nil {
		var prod, dev []string
		for name, rng := range root.prodDeps() {
			if id, ok := idOf[descriptor(name, rng)]; ok {
				prod = append(prod, id)
			}
		}
		for name, rng := range root.DevDependencies {
			if id, ok := idOf[descriptor(name, rng)]; ok {
				dev = append(dev, id)
			}
		}
		classify(pkgs, prod, dev)
	}
	return pkgs
}
