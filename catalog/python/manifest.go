package python

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/BurntSushi/toml"
)

// manifest is what a project says it requires directly: the pyproject.toml
// ([project], [dependency-groups], [tool.poetry], [tool.uv]), the Pipfile
// or the requirements.in beside a lockfile. Names are PEP 503 normalised.
type manifest struct {
	name, version string
	// runtime are the project's dependencies and those of its extras
	// (optional features of the project itself are runtime);
	// dev those of its dependency groups, Poetry groups other than
	// main, Pipfile dev-packages, uv dev-dependencies.
	runtime, dev []requirement
}

// requirement is a direct dependency: its normalised name and the extras
// it asks for.
type requirement struct {
	name   string
	extras []string
}

type pyproject struct {
	Project struct {
		Name                 string              `toml:"name"`
		Version              string              `toml:"version"`
		Dependencies         []string            `toml:"dependencies"`
		OptionalDependencies map[string][]string `toml:"optional-dependencies"`
	} `toml:"project"`
	DependencyGroups map[string][]any `toml:"dependency-groups"`
	Tool             struct {
		Poetry struct {
			Name            string                    `toml:"name"`
			Version         string                    `toml:"version"`
			Dependencies    map[string]any            `toml:"dependencies"`
			DevDependencies map[string]any            `toml:"dev-dependencies"`
			Group           map[string]map[string]any `toml:"group"`
		} `toml:"poetry"`
		UV struct {
			DevDependencies []string `toml:"dev-dependencies"`
		} `toml:"uv"`
	} `toml:"tool"`
}

// parsePyproject reads the direct dependencies of a pyproject.toml.
func parsePyproject(b []byte) (*manifest, error) {
	var pp pyproject
	if _, err := toml.Decode(string(b), &pp); err != nil {
		return nil, err
	}
	m := &manifest{name: pp.Project.Name, version: pp.Project.Version}
	if m.name == "" {
		m.name, m.version = pp.Tool.Poetry.Name, pp.Tool.Poetry.Version
	}
	for _, d := range pp.Project.Dependencies {
		m.runtime = appendPEP508(m.runtime, d)
	}
	for _, list := range pp.Project.OptionalDependencies {
		for _, d := range list {
			m.runtime = appendPEP508(m.runtime, d)
		}
	}
	for _, list := range pp.DependencyGroups {
		for _, d := range list {
			if s, ok := d.(string); ok { // {include-group = …} adds nothing new
				m.dev = appendPEP508(m.dev, s)
			}
		}
	}
	for _, d := range pp.Tool.UV.DevDependencies {
		m.dev = appendPEP508(m.dev, d)
	}
	poetry := pp.Tool.Poetry
	m.runtime = appendPoetry(m.runtime, poetry.Dependencies)
	m.dev = appendPoetry(m.dev, poetry.DevDependencies)
	for g, t := range poetry.Group {
		deps, _ := t["dependencies"].(map[string]any)
		if g == "main" {
			m.runtime = appendPoetry(m.runtime, deps)
		} else {
			m.dev = appendPoetry(m.dev, deps)
		}
	}
	return m, nil
}

// appendPoetry adds Poetry's "name = spec" dependencies, but python.
func appendPoetry(reqs []requirement, deps map[string]any) []requirement {
	for name, spec := range deps {
		if strings.EqualFold(name, "python") || !validName(name) {
			continue
		}
		r := requirement{name: normalize(name)}
		if t, ok := spec.(map[string]any); ok {
			if list, ok := t["extras"].([]any); ok {
				for _, e := range list {
					if s, ok := e.(string); ok {
						r.extras = append(r.extras, normalize(s))
					}
				}
			}
		}
		reqs = append(reqs, r)
	}
	return reqs
}

// appendPEP508 adds the requirement a PEP 508 string names
// ("cachecontrol[filecache] (>=0.14) ; python_version < '3.11'").
func appendPEP508(reqs []requirement, s string) []requirement {
	if r, ok := parsePEP508(s); ok {
		reqs = append(reqs, r)
	}
	return reqs
}

func parsePEP508(s string) (requirement, bool) {
	s = strings.TrimSpace(s)
	end := strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	})
	if end < 0 {
		end = len(s)
	}
	if !validName(s[:end]) {
		return requirement{}, false
	}
	r := requirement{name: normalize(s[:end])}
	rest := strings.TrimSpace(s[end:])
	if strings.HasPrefix(rest, "[") {
		if j := strings.IndexByte(rest, ']'); j > 0 {
			for _, e := range strings.Split(rest[1:j], ",") {
				if e = strings.TrimSpace(e); e != "" {
					r.extras = append(r.extras, normalize(e))
				}
			}
		}
	}
	return r, true
}

type pipfile struct {
	Packages    map[string]any `toml:"packages"`
	DevPackages map[string]any `toml:"dev-packages"`
}

// parsePipfile reads the direct dependencies of a Pipfile: [packages]
// are runtime, [dev-packages] development ones.
func parsePipfile(b []byte) (*manifest, error) {
	var pf pipfile
	if _, err := toml.Decode(string(b), &pf); err != nil {
		return nil, err
	}
	return &manifest{runtime: appendPoetry(nil, pf.Packages), dev: appendPoetry(nil, pf.DevPackages)}, nil
}

// parseRequirementsIn reads the direct dependencies of a requirements.in
// (what pip-compile and `uv pip compile` lock from): one requirement per
// line, options and comments skipped.
func parseRequirementsIn(b []byte) *manifest {
	m := &manifest{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line == "" || line[0] == '-' {
			continue
		}
		m.runtime = appendPEP508(m.runtime, line)
	}
	return m
}
