package dotnet

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// ParseDepsJSON returns the packages of a .deps.json file: its
// "libraries" entries ("Name/Version") of type "package", and the
// application itself (the library of type "project" the runtime target
// lists) as the root. The runtime target's entries give the dependency
// graph; packages the application does not depend on directly are
// Indirect.
func ParseDepsJSON(b []byte) ([]inventory.Package, error) {
	var f struct {
		RuntimeTarget struct {
			Name string `json:"name"`
		} `json:"runtimeTarget"`
		Targets map[string]map[string]struct {
			Dependencies map[string]string `json:"dependencies"`
		} `json:"targets"`
		Libraries map[string]struct {
			Type string `json:"type"`
		} `json:"libraries"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Libraries == nil {
		return nil, errors.New(`no "libraries"`)
	}
	target := f.Targets[f.RuntimeTarget.Name]
	if target == nil && len(f.Targets) > 0 {
		target = f.Targets[slices.Sorted(maps.Keys(f.Targets))[0]]
	}
	ids := map[string]string{} // lower-cased name → ID of a package or project
	var pkgs []inventory.Package
	rootIdx := -1
	for _, key := range slices.Sorted(maps.Keys(f.Libraries)) {
		typ := f.Libraries[key].Type
		name, version, ok := strings.Cut(key, "/")
		switch {
		case !ok || !valid(name, version):
			continue
		case strings.EqualFold(typ, "package"):
			pkgs = append(pkgs, newPackage(name, version))
		case strings.EqualFold(typ, "project") && rootIdx < 0 && target != nil && hasKey(target, key):
			root := newPackage(name, version)
			root.Root, root.Purl = true, ""
			rootIdx = len(pkgs)
			pkgs = append(pkgs, root)
		default:
			continue
		}
		ids[strings.ToLower(name)] = pkgs[len(pkgs)-1].ID
	}
	if target == nil {
		return pkgs, nil
	}
	for i := range pkgs {
		for key, e := range target {
			if n, v, _ := strings.Cut(key, "/"); !strings.EqualFold(n, pkgs[i].Name) || v != pkgs[i].Version {
				continue
			}
			for dep := range e.Dependencies {
				if id, ok := ids[strings.ToLower(dep)]; ok && id != pkgs[i].ID {
					pkgs[i].DependsOn = append(pkgs[i].DependsOn, id)
				}
			}
		}
	}
	if rootIdx >= 0 {
		langpkg.Scope(pkgs, pkgs[rootIdx].DependsOn, nil)
	}
	return pkgs, nil
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

type lockEntry struct {
	Type         string            `json:"type"`
	Resolved     string            `json:"resolved"`
	Dependencies map[string]string `json:"dependencies"`
}

// ParseLockfile returns the packages of a NuGet packages.lock.json, the
// union over its target frameworks, with the project as the root: named
// fallback (its folder), depending on the Direct packages and on the
// projects it references (type Project, roots too). Transitive and
// CentralTransitive packages are Indirect. Dependencies are resolved by
// name within the same framework.
func ParseLockfile(b []byte, fallback string) ([]inventory.Package, error) {
	var f struct {
		Version      int                             `json:"version"`
		Dependencies map[string]map[string]lockEntry `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Dependencies == nil {
		return nil, errors.New(`no "dependencies"`)
	}
	root := langpkg.Project("", "", "", fallback, nil)
	pkgs := []inventory.Package{}
	for _, tfm := range slices.Sorted(maps.Keys(f.Dependencies)) {
		entries := f.Dependencies[tfm]
		idOf := func(name string) (string, bool) {
			n, e, ok := lookup(entries, name)
			switch {
			case !ok:
				return "", false
			case strings.EqualFold(e.Type, "Project"):
				return n, true
			case e.Resolved != "" && valid(n, e.Resolved):
				return langpkg.ID(n, e.Resolved), true
			}
			return "", false
		}
		for _, name := range slices.Sorted(maps.Keys(entries)) {
			e := entries[name]
			var p inventory.Package
			switch {
			case strings.EqualFold(e.Type, "Project"):
				p = langpkg.Project("", name, "", name, nil)
			case valid(name, e.Resolved):
				p = newPackage(name, e.Resolved)
				p.Indirect = !strings.EqualFold(e.Type, "Direct")
			default:
				continue
			}
			if p.Root || !p.Indirect {
				root.DependsOn = append(root.DependsOn, p.ID)
			}
			for dep := range e.Dependencies {
				if id, ok := idOf(dep); ok && id != p.ID {
					p.DependsOn = append(p.DependsOn, id)
				}
			}
			pkgs = append(pkgs, p)
		}
	}
	return append(pkgs, root), nil
}

// lookup finds a package by name, NuGet names being case-insensitive,
// and returns it with its name as the lock file spells its entry.
func lookup(entries map[string]lockEntry, name string) (string, lockEntry, bool) {
	if e, ok := entries[name]; ok {
		return name, e, true
	}
	for n, e := range entries {
		if strings.EqualFold(n, name) {
			return n, e, true
		}
	}
	return "", lockEntry{}, false
}

// ParsePackagesConfig returns the packages of a packages.config file.
func ParsePackagesConfig(b []byte) ([]inventory.Package, error) {
	var f struct {
		XMLName  xml.Name `xml:"packages"`
		Packages []struct {
			ID      string `xml:"id,attr"`
			Version string `xml:"version,attr"`
			Dev     bool   `xml:"developmentDependency,attr"`
		} `xml:"package"`
	}
	if err := decodeXML(b, &f); err != nil {
		return nil, err
	}
	var pkgs []inventory.Package
	for _, e := range f.Packages {
		if !valid(e.ID, e.Version) {
			continue
		}
		p := newPackage(e.ID, e.Version)
		p.Dev = e.Dev
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// ParsePackagesProps returns the PackageVersion and PackageReference items
// of a Directory.Packages.props file whose version is a literal (Version
// or VersionOverride attribute, or Version element).
func ParsePackagesProps(b []byte) ([]inventory.Package, error) {
	type item struct {
		Include         string `xml:"Include,attr"`
		Update          string `xml:"Update,attr"`
		Version         string `xml:"Version,attr"`
		VersionOverride string `xml:"VersionOverride,attr"`
		VersionElem     string `xml:"Version"`
	}
	var f struct {
		XMLName    xml.Name `xml:"Project"`
		ItemGroups []struct {
			Versions   []item `xml:"PackageVersion"`
			References []item `xml:"PackageReference"`
		} `xml:"ItemGroup"`
	}
	if err := decodeXML(b, &f); err != nil {
		return nil, err
	}
	var pkgs []inventory.Package
	for _, g := range f.ItemGroups {
		for _, it := range slices.Concat(g.Versions, g.References) {
			name := strings.TrimSpace(cmp.Or(it.Include, it.Update))
			version := strings.TrimSpace(cmp.Or(it.VersionOverride, it.Version, it.VersionElem))
			if valid(name, version) {
				pkgs = append(pkgs, newPackage(name, version))
			}
		}
	}
	return pkgs, nil
}

// decodeXML decodes one XML document without resolving external entities
// (encoding/xml never does) and with a strict syntax check.
func decodeXML(b []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
	d.Strict = true
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("xml: %w", err)
	}
	return nil
}
