package ruby

import (
	"bufio"
	"bytes"
	"errors"
	"strings"

	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// ParseLockfile returns the gems of a Gemfile.lock. Specs are the lines
// indented by four spaces under "specs:" in the GEM, GIT and PATH
// sections ("    rack (2.2.8)", "    nokogiri (1.15.4-x86_64-linux)", the
// platform dropped from the version); lines indented by six spaces are
// the dependencies of the spec above them. Gems named under DEPENDENCIES
// are direct; when that section is present the others are Indirect.
func ParseLockfile(b []byte) ([]inventory.Package, error) {
	type spec struct {
		name, version string
		deps          []string
	}
	var specs []spec
	direct := map[string]bool{}
	section, inSpecs, sawDeps := "", false, false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \r")
		if line == "" {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		text := strings.TrimSpace(line)
		if indent == 0 {
			section, inSpecs = text, false
			sawDeps = sawDeps || section == "DEPENDENCIES"
			continue
		}
		switch section {
		case "GEM", "GIT", "PATH":
			switch {
			case indent == 2:
				inSpecs = text == "specs:"
			case inSpecs && indent == 4:
				name, version, ok := nameVersion(text)
				if !ok {
					continue
				}
				specs = append(specs, spec{name: name, version: stripPlatform(version)})
			case inSpecs && indent == 6 && len(specs) > 0:
				name, _, _ := strings.Cut(text, " ")
				specs[len(specs)-1].deps = append(specs[len(specs)-1].deps, name)
			}
		case "DEPENDENCIES":
			if indent == 2 {
				name, _, _ := strings.Cut(text, " ")
				direct[strings.TrimSuffix(name, "!")] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(specs) == 0 && !bytes.Contains(b, []byte("specs:")) {
		return nil, errors.New("no GEM specs section")
	}
	versions := map[string]string{}
	for _, s := range specs {
		versions[s.name] = s.version
	}
	pkgs := make([]inventory.Package, 0, len(specs))
	for _, s := range specs {
		p := newPackage(s.name, s.version)
		for _, d := range s.deps {
			if v, ok := versions[d]; ok {
				p.DependsOn = append(p.DependsOn, langpkg.ID(d, v))
			}
		}
		p.Indirect = sawDeps && !direct[s.name]
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// nameVersion splits "name (version)".
func nameVersion(s string) (name, version string, ok bool) {
	name, rest, ok := strings.Cut(s, " (")
	if !ok || !strings.HasSuffix(rest, ")") || name == "" {
		return "", "", false
	}
	version = strings.TrimSuffix(rest, ")")
	if version == "" || strings.ContainsAny(version, " ,<>=~") {
		return "", "", false
	}
	return name, version, true
}

// platforms start the platform suffix Bundler appends to a version
// ("1.15.4-x86_64-linux", "1.6.0-java", "2.0.0-x64-mingw-ucrt").
var platforms = []string{
	"x86_64", "x86", "x64", "i386", "i486", "i586", "i686", "amd64", "arm", "aarch64", "universal",
	"powerpc", "ppc", "s390", "sparc", "mips", "riscv", "loongarch", "java", "jruby", "mswin", "mingw", "darwin", "linux", "freebsd",
}

// stripPlatform drops a platform suffix from a locked version; prerelease
// tags ("1.0.0-beta") stay.
func stripPlatform(v string) string {
	i := strings.IndexByte(v, '-')
	if i < 0 {
		return v
	}
	for _, p := range platforms {
		if strings.HasPrefix(v[i+1:], p) {
			return v[:i]
		}
	}
	return v
}
