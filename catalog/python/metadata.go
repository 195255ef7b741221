package python

import (
	"bufio"
	"bytes"
	"io/fs"
	"strings"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// metadata is the subset of the core metadata headers read here.
type metadata struct {
	name, version, license, licenseExpr string
	classifiers, requires               []string
}

// maxField bounds the folded value of one header.
const maxField = 64 << 10

// parseMetadata reads the RFC 822 style header block of METADATA or
// PKG-INFO, stopping at the first blank line (the description body).
func parseMetadata(b []byte) metadata {
	var m metadata
	var key string
	var buf strings.Builder
	flush := func() {
		val := strings.TrimSpace(buf.String())
		buf.Reset()
		switch strings.ToLower(key) {
		case "name":
			m.name = val
		case "version":
			m.version = val
		case "license":
			m.license = val
		case "license-expression":
			m.licenseExpr = val
		case "classifier":
			m.classifiers = append(m.classifiers, val)
		case "requires-dist":
			m.requires = append(m.requires, val)
		}
		key = ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, min(len(b)+1, 64<<10)), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if buf.Len() < maxField {
				buf.WriteByte('\n')
				buf.WriteString(line)
			}
			continue
		}
		flush()
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = k
		buf.WriteString(v)
	}
	flush()
	return m
}

// licenses prefers License-Expression, then a one-line License field, then
// the "License ::" trove classifiers.
func (m metadata) licenses() []string {
	if m.licenseExpr != "" {
		return []string{m.licenseExpr}
	}
	if l := m.license; l != "" && !strings.Contains(l, "\n") && len(l) <= 100 && !strings.EqualFold(l, "UNKNOWN") {
		return []string{l}
	}
	var out []string
	for _, c := range m.classifiers {
		if !strings.HasPrefix(c, "License ::") {
			continue
		}
		parts := strings.Split(c, "::")
		if l := strings.TrimSpace(parts[len(parts)-1]); l != "" && l != "OSI Approved" {
			out = append(out, l)
		}
	}
	return out
}

// requiredNames returns the normalised names of the unconditional
// dependencies (Requires-Dist lines without an "extra" marker).
func (m metadata) requiredNames() []string {
	var out []string
	for _, r := range m.requires {
		spec, marker, _ := strings.Cut(r, ";")
		if strings.Contains(marker, "extra") {
			continue
		}
		end := strings.IndexFunc(spec, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
		})
		if end < 0 {
			end = len(spec)
		}
		if name := spec[:end]; validName(name) {
			out = append(out, normalize(name))
		}
	}
	return out
}

func readMetadata(fsys fs.FS, p string, env catalog.Env) (inventory.Package, []string, bool) {
	b, err := langpkg.ReadFile(fsys, p, maxMetadata)
	if err != nil {
		env.Warn(p, "python: cannot read metadata", err)
		return inventory.Package{}, nil, false
	}
	m := parseMetadata(b)
	if m.name == "" || m.version == "" {
		env.Warn(p, "python: metadata without Name or Version", nil)
		return inventory.Package{}, nil, false
	}
	pkg := newPackage(m.name, m.version)
	pkg.Licenses = m.licenses()
	pkg.FilePath = p
	return pkg, m.requiredNames(), true
}

// sitePackages returns the folder that holds a distribution's metadata:
// "usr/lib/python3/site-packages" for
// "usr/lib/python3/site-packages/x-1.dist-info/METADATA",
// ".../site-packages/x-1.egg-info", ".../site-packages/x-1.egg" (zipped)
// and ".../site-packages/x-1.egg/EGG-INFO/PKG-INFO" (unpacked).
func sitePackages(p string) string {
	d := langpkg.Dir(p)
	switch {
	case strings.HasSuffix(p, ".egg-info"), strings.HasSuffix(p, ".egg"):
		return d
	case strings.HasSuffix(p, "EGG-INFO/PKG-INFO"):
		return langpkg.Dir(langpkg.Dir(d))
	}
	return langpkg.Dir(d)
}

// linkInstalled fills DependsOn with the IDs of the installed
// distributions, in the same folder, that each one requires.
func linkInstalled(pkgs []inventory.Package, deps [][]string) {
	idOf := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		idOf[sitePackages(p.FilePath)+"\x00"+normalize(p.Name)] = p.ID
	}
	for i := range pkgs {
		site := sitePackages(pkgs[i].FilePath)
		for _, d := range deps[i] {
			if id, ok := idOf[site+"\x00"+d]; ok {
				pkgs[i].DependsOn = append(pkgs[i].DependsOn, id)
			}
		}
	}
}
