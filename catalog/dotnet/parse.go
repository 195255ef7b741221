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
// "libraries" entries ("Name/Version") of type "package".
func ParseDepsJSON(b []byte) ([]inventory.Package, error) {
	var f struct {
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
	var pkgs []inventory.Package
	for _, key := range slices.Sorted(maps.Keys(f.Libraries)) {
		if !strings.EqualFold(f.Libraries[key].Type, "package") {
			continue
		}
		name, version, ok := strings.Cut(key, "/")
		if ok && valid(name, version) {
			pkgs = append(pkgs, newPackage(name, version))
		}
	}
	return pkgs, nil
}

type lockEntry struct {
	Type         string            `json:"type"`
	Resolved     string            `json:"resolved"`
	Dependencies map[string]string `json:"dependencies"`
}

// ParseLockfile returns the packages of a NuGet packages.lock.json, the
// union over its target frameworks. Dependencies are resolved by name
// within the same framework.
func ParseLockfile(b []byte) ([]inventory.Package, error) {
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
	var pkgs []inventory.Package
	for _, tfm := range slices.Sorted(maps.Keys(f.Dependencies)) {
		entries := f.Dependencies[tfm]
		for _, name := range slices.Sorted(maps.Keys(entries)) {
			e := entries[name]
			if strings.EqualFold(e.Type, "Project") || !valid(name, e.Resolved) {
				continue
			}
			p := newPackage(name, e.Resolved)
			p.Indirect = !strings.EqualFold(e.Type, "Direct")
			for dep := range e.Dependencies {
				if n, d, ok := lookup(entries, dep); ok && d.Resolved != "" && !strings.EqualFold(d.Type, "Project") {
					p.DependsOn = append(p.DependsOn, langpkg.ID(n, d.Resolved))
				}
			}
			pkgs = append(pkgs, p)
		}
	}
	return pkgs, nil
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
