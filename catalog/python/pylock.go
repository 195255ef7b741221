package python

import (
	"errors"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/vigil-scanner/vigil/inventory"
)

// pylock is a PEP 751 lock file (pylock.toml, pylock.<name>.toml), the
// subset read here: https://packaging.python.org/en/latest/specifications/pylock-toml/
type pylock struct {
	LockVersion      string          `toml:"lock-version"`
	Extras           []string        `toml:"extras"`
	DependencyGroups []string        `toml:"dependency-groups"`
	DefaultGroups    []string        `toml:"default-groups"`
	Packages         []pylockPackage `toml:"packages"`
}

type pylockPackage struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
	Marker  string `toml:"marker"`
	VCS     *struct {
		Type     string `toml:"type"`
		URL      string `toml:"url"`
		Path     string `toml:"path"`
		CommitID string `toml:"commit-id"`
	} `toml:"vcs"`
	Directory *struct {
		Path string `toml:"path"`
	} `toml:"directory"`
	Archive *struct {
		URL  string `toml:"url"`
		Path string `toml:"path"`
	} `toml:"archive"`
	Dependencies []struct {
		Name    string `toml:"name"`
		Version string `toml:"version"`
	} `toml:"dependencies"`
}

// parsePylock reads a PEP 751 lock file. Every [[packages]] entry is a
// package: from an index (sdist or wheels), or with the origin of its
// vcs, directory or archive source. A package is Dev when its marker is
// false with the default groups and every extra selected: only a
// non-default dependency group installs it. Extras are the project's
// optional features, so runtime. The dependencies the lock may list form
// the graph; with the project's manifest (pyproject.toml, Pipfile or
// requirements.in beside the lock) the packages it names are direct.
func parsePylock(b []byte, m *manifest, fallback string) ([]inventory.Package, error) {
	var lf pylock
	if _, err := toml.Decode(string(b), &lf); err != nil {
		return nil, err
	}
	if lf.LockVersion == "" {
		return nil, errors.New("no lock-version")
	}
	if major, _, _ := strings.Cut(lf.LockVersion, "."); major != "1" {
		return nil, fmt.Errorf("lock-version %q: only 1.x is known", lf.LockVersion)
	}
	env := markerEnv{groups: map[string]bool{}, extras: map[string]bool{}}
	for _, g := range lf.DefaultGroups {
		env.groups[normalize(g)] = true
	}
	for _, e := range lf.Extras {
		env.extras[normalize(e)] = true
	}
	g := newGraph()
	index := make([]int, len(lf.Packages))
	for i, e := range lf.Packages {
		index[i] = -1
		if !validName(e.Name) {
			continue
		}
		var p inventory.Package
		switch {
		case e.VCS != nil:
			origin := e.VCS.URL
			if origin == "" {
				origin = "file:" + e.VCS.Path
			}
			if t := e.VCS.Type; t != "" && !strings.HasPrefix(origin, t+"+") {
				origin = t + "+" + origin
			}
			if e.VCS.CommitID != "" {
				origin += "#" + e.VCS.CommitID
			}
			p = originPackage(e.Name, e.Version, origin)
		case e.Directory != nil:
			p = originPackage(e.Name, e.Version, "file:"+e.Directory.Path)
		case e.Archive != nil:
			origin := e.Archive.URL
			if origin == "" {
				origin = "file:" + e.Archive.Path
			}
			p = originPackage(e.Name, e.Version, origin)
		case e.Version != "":
			p = newPackage(e.Name, e.Version)
		default:
			continue
		}
		p.Dev = e.Marker != "" && evalMarker(e.Marker, env) == no
		index[i] = g.add(p)
	}
	for i, e := range lf.Packages {
		if index[i] < 0 {
			continue
		}
		for _, d := range e.Dependencies {
			g.pkgs[index[i]].DependsOn = append(g.pkgs[index[i]].DependsOn, g.ids(d.Name, d.Version)...)
		}
	}
	dev := make([]bool, len(g.pkgs))
	for i := range g.pkgs {
		dev[i] = g.pkgs[i].Dev
	}
	pkgs := g.withRoot(m, fallback)
	// The markers say what is installed by default; the graph only which
	// packages are direct.
	for i := range dev {
		pkgs[i].Dev = dev[i]
	}
	return pkgs, nil
}
