package ruby

import (
	"bufio"
	"bytes"
	"errors"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// ParseLockfile returns the gems of a Gemfile.lock, read without its
// Gemfile (see parseLockfile).
func ParseLockfile(b []byte) ([]inventory.Package, error) {
	return parseLockfile(b, nil, ".")
}

// parseLockfile returns the gems of a Gemfile.lock. Specs are the lines
// indented by four spaces under "specs:" in the GEM, GIT and PATH
// sections ("    rack (2.2.8)", "    nokogiri (1.15.4-x86_64-linux)", the
// platform dropped from the version); lines indented by six spaces are
// the dependencies of the spec above them. Gems from GIT carry their
// repository and revision as origin, gems from PATH their path, except
// the gem at "." (a Gemfile's `gemspec`), which is the project itself.
//
// The project is the root: that gem, or else a project named fallback,
// depending on the gems under DEPENDENCIES (direct; the others are
// Indirect) and on the project gem's own dependencies. The Gemfile, when
// known, says which direct gems are for development only (groups
// development and test, and the gemspec's development dependencies);
// without it they are all runtime. Dev then comes from a walk of the
// graph. Without a DEPENDENCIES section there is no root.
func parseLockfile(b []byte, gf *gemfile, fallback string) ([]inventory.Package, error) {
	type spec struct {
		name, version string
		origin        string
		project       bool
		deps          []string
	}
	var specs []spec
	var direct []string
	section, remote, revision, inSpecs, sawDeps := "", "", "", false, false
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
			section, remote, revision, inSpecs = text, "", "", false
			sawDeps = sawDeps || section == "DEPENDENCIES"
			continue
		}
		switch section {
		case "GEM", "GIT", "PATH":
			switch {
			case indent == 2:
				inSpecs = text == "specs:"
				if v, ok := strings.CutPrefix(text, "remote: "); ok {
					remote = v
				}
				if v, ok := strings.CutPrefix(text, "revision: "); ok {
					revision = v
				}
			case inSpecs && indent == 4:
				name, version, ok := nameVersion(text)
				if !ok {
					continue
				}
				s := spec{name: name, version: stripPlatform(version)}
				switch section {
				case "GIT":
					s.origin = remote
					if revision != "" {
						s.origin += "#" + revision
					}
					if !strings.HasPrefix(s.origin, "git") {
						s.origin = "git+" + s.origin
					}
				case "PATH":
					if remote == "." || remote == "./" {
						s.project = true
					} else {
						s.origin = "file:" + remote
					}
				}
				specs = append(specs, s)
			case inSpecs && indent == 6 && len(specs) > 0:
				name, _, _ := strings.Cut(text, " ")
				specs[len(specs)-1].deps = append(specs[len(specs)-1].deps, name)
			}
		case "DEPENDENCIES":
			if indent == 2 {
				name, _, _ := strings.Cut(text, " ")
				direct = append(direct, strings.TrimSuffix(name, "!"))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(specs) == 0 && !bytes.Contains(b, []byte("specs:")) {
		return nil, errors.New("no GEM specs section")
	}
	idOf := map[string]string{}
	for _, s := range specs {
		idOf[s.name] = langpkg.ID(s.name, s.version)
	}
	pkgs := make([]inventory.Package, 0, len(specs)+1)
	rootIdx := -1
	var projectDeps []string
	for _, s := range specs {
		p := newPackage(s.name, s.version)
		if s.origin != "" {
			p.Origin = s.origin
			p.Purl = langpkg.WithOrigin(p.Purl, s.origin)
		}
		for _, d := range s.deps {
			if id, ok := idOf[d]; ok {
				p.DependsOn = append(p.DependsOn, id)
			}
		}
		if s.project && rootIdx < 0 {
			p.Root = true
			rootIdx = len(pkgs)
			projectDeps = s.deps
		}
		pkgs = append(pkgs, p)
	}
	if !sawDeps {
		return pkgs, nil
	}
	if rootIdx < 0 {
		pkgs = append(pkgs, langpkg.Project(packageurl.TypeGem, "", "", fallback, nil))
		rootIdx = len(pkgs) - 1
	}
	root := &pkgs[rootIdx]
	var runtime, dev []string
	add := func(name string, isDev bool) {
		id, ok := idOf[name]
		if !ok || id == root.ID {
			return
		}
		root.DependsOn = append(root.DependsOn, id)
		if isDev {
			dev = append(dev, id)
		} else {
			runtime = append(runtime, id)
		}
	}
	for _, d := range projectDeps {
		add(d, false) // the gemspec's runtime dependencies
	}
	for _, d := range direct {
		add(d, gf != nil && gf.dev(d, true))
	}
	langpkg.Scope(pkgs, runtime, dev)
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
