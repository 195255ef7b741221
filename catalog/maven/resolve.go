package maven

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
)

// Bounds on what one scan follows: parent chains, BOM imports, property
// references.
const (
	maxParents    = 16
	maxImports    = 64
	maxExpansions = 16
	maxValue      = 4096
)

// model is a POM with what it inherits: the properties, dependency
// management and dependencies of itself and its parents (child first),
// and of its activeByDefault profiles.
type model struct {
	pom  *pom
	self gav
	// props are the merged properties, the child's winning.
	props map[string]string
	// managed are the dependencyManagement entries, nearest first:
	// the POM's own, its imports', then its parent's, and so on.
	managed []managedEntry
	deps    []dependency
	// missing names the parents and BOMs that were not found.
	missing []string
	// index maps "group:artifact" to the nearest managed entry, built
	// on first use.
	index map[string]int
}

type managedEntry struct {
	dep dependency
	// props are the properties an imported BOM's entries are expanded
	// with (its own); nil for the POM's and its parents' entries, which
	// Maven interpolates after inheritance, with the child's.
	props map[string]string
}

// resolver finds POMs: in the scanned tree (by path, and by coordinates),
// in the local repository, and from the remote one when allowed.
type resolver struct {
	ctx    context.Context
	fsys   fs.FS
	opts   Options
	byPath map[string]*pom   // tree POMs, parsed
	byGAV  map[string]string // coordinates → tree path
	cache  map[string]*pom   // repository POMs by coordinates (nil: not found)
	errs   map[string]error  // why a repository POM was not found
	models map[string]*model // effective models of repository POMs
}

// lookup returns the POM with coordinates c: from the tree (the path rel
// relative to from first, as <relativePath> says), the local repository,
// then the remote one.
func (r *resolver) lookup(c gav, from, rel string) (*pom, string, error) {
	if from != "" && rel != "" {
		p := path.Join(path.Dir(from), rel)
		if !strings.HasSuffix(p, ".xml") {
			p = path.Join(p, "pom.xml")
		}
		if m := r.byPath[p]; m != nil && m.coordinates() == c {
			return m, p, nil
		}
	}
	if p, ok := r.byGAV[c.String()]; ok {
		return r.byPath[p], p, nil
	}
	key := c.String()
	if m, ok := r.cache[key]; ok {
		return m, "", r.errs[key]
	}
	m, err := r.fetch(c)
	r.cache[key], r.errs[key] = m, err
	return m, "", err
}

// errNotFound says a POM is in no place vigil may look.
var errNotFound = errors.New("not found")

func (r *resolver) fetch(c gav) (*pom, error) {
	if c.group == "" || c.artifact == "" || c.version == "" || strings.Contains(c.String(), "${") || strings.ContainsAny(c.String(), "/\\") || strings.Contains(c.String(), "..") {
		return nil, fmt.Errorf("%w (incomplete coordinates)", errNotFound)
	}
	rel := strings.ReplaceAll(c.group, ".", "/") + "/" + c.artifact + "/" + c.version + "/" + c.artifact + "-" + c.version + ".pom"
	var where []string
	if r.opts.LocalRepository != nil {
		b, err := langpkg.ReadFile(r.opts.LocalRepository, rel, maxPOM)
		if err == nil {
			return parsePOM(b)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		where = append(where, "the local repository")
	}
	if r.opts.Remote != nil {
		b, err := r.opts.Remote.POM(r.ctx, c.group, c.artifact, c.version)
		if err == nil {
			return parsePOM(b)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		where = append(where, "the remote repository")
	} else {
		where = append(where, "network resolution off")
	}
	return nil, fmt.Errorf("%w (not in the scanned tree, %s)", errNotFound, strings.Join(where, ", "))
}

// effective builds the model of p (at tree path file, "" for a repository
// POM), following its parents.
func (r *resolver) effective(p *pom, file string, depth int) *model {
	m := &model{pom: p, self: p.coordinates(), props: map[string]string{}}
	var parent *model
	if p.Parent != nil && depth < maxParents {
		pc := gav{p.Parent.GroupID, p.Parent.ArtifactID, p.Parent.Version}
		rel := "../pom.xml"
		if p.Parent.RelativePath != nil {
			rel = strings.TrimSpace(*p.Parent.RelativePath)
		}
		pp, ppath, err := r.lookup(pc, file, rel)
		if err != nil || pp == nil {
			m.missing = append(m.missing, fmt.Sprintf("parent %s (%v)", pc, err))
		} else {
			parent = r.effective(pp, ppath, depth+1)
			m.missing = append(m.missing, parent.missing...)
		}
	}
	if parent != nil {
		for k, v := range parent.props {
			m.props[k] = v
		}
	}
	own := []properties{p.Properties}
	ownDeps := p.Dependencies.List
	ownManaged := p.DependencyManagement.List
	for _, pr := range p.Profiles {
		if strings.TrimSpace(pr.Activation.ActiveByDefault) == "true" {
			own = append(own, pr.Properties)
			ownDeps = append(ownDeps, pr.Dependencies.List...)
			ownManaged = append(ownManaged, pr.DependencyManagement.List...)
		}
	}
	for _, props := range own {
		for k, v := range props {
			m.props[k] = v
		}
	}
	// Built-in properties.
	m.props["project.groupId"], m.props["pom.groupId"] = m.self.group, m.self.group
	m.props["project.artifactId"], m.props["pom.artifactId"] = m.self.artifact, m.self.artifact
	m.props["project.version"], m.props["pom.version"], m.props["version"] = m.self.version, m.self.version, m.self.version
	if p.Parent != nil {
		m.props["project.parent.groupId"] = p.Parent.GroupID
		m.props["project.parent.version"] = p.Parent.Version
	}
	m.self = gav{m.expand(m.self.group), m.self.artifact, m.expand(m.self.version)}

	// dependencyManagement: own entries, then imported BOMs, then the
	// parent's.
	imports := 0
	for _, d := range ownManaged {
		if d.Scope == "import" && (d.Type == "pom" || d.Type == "") {
			continue
		}
		m.managed = append(m.managed, managedEntry{dep: d})
	}
	for _, d := range ownManaged {
		if d.Scope != "import" || imports >= maxImports {
			continue
		}
		imports++
		bc := gav{m.expand(d.GroupID), m.expand(d.ArtifactID), m.expand(d.Version)}
		bom, bpath, err := r.lookup(bc, "", "")
		if err != nil || bom == nil {
			m.missing = append(m.missing, fmt.Sprintf("imported BOM %s (%v)", bc, err))
			continue
		}
		bm := r.bom(bc, bom, bpath, depth+1)
		for _, e := range bm.managed {
			if e.props == nil {
				e.props = bm.props
			}
			m.managed = append(m.managed, e)
		}
		m.missing = append(m.missing, bm.missing...)
	}
	if parent != nil {
		m.managed = append(m.managed, parent.managed...)
		m.deps = append(m.deps, parent.deps...)
	}
	m.deps = append(m.deps, ownDeps...)
	return m
}

// bom returns the model of an imported BOM, cached.
func (r *resolver) bom(c gav, p *pom, file string, depth int) *model {
	key := c.String()
	if m, ok := r.models[key]; ok {
		if m == nil { // an import cycle
			return &model{}
		}
		return m
	}
	if depth > maxParents {
		return &model{missing: []string{"imported BOM " + key + " (nested too deep)"}}
	}
	r.models[key] = nil
	m := r.effective(p, file, depth)
	r.models[key] = m
	return m
}

var propRe = regexp.MustCompile(`\$\{([^}]+)\}`)

// expand replaces ${name} references with the model's properties, up to
// maxExpansions rounds; references left are unresolved.
func (m *model) expand(s string) string {
	return expandWith(s, m.props)
}

func expandWith(s string, props map[string]string) string {
	for i := 0; i < maxExpansions && strings.Contains(s, "${"); i++ {
		next := propRe.ReplaceAllStringFunc(s, func(ref string) string {
			if v, ok := props[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
		if next == s || len(next) > maxValue {
			break
		}
		s = next
	}
	return s
}

// managedFor returns the dependencyManagement entry for g:a, nearest
// first, with the properties to expand it with.
func (m *model) managedFor(group, artifact string) (dependency, map[string]string, bool) {
	if m.index == nil {
		m.index = make(map[string]int, len(m.managed))
		for i, e := range m.managed {
			props := m.propsOf(e)
			key := expandWith(e.dep.GroupID, props) + ":" + expandWith(e.dep.ArtifactID, props)
			if _, ok := m.index[key]; !ok {
				m.index[key] = i
			}
		}
	}
	i, ok := m.index[group+":"+artifact]
	if !ok {
		return dependency{}, nil, false
	}
	return m.managed[i].dep, m.propsOf(m.managed[i]), true
}

// propsOf returns the properties a managed entry is expanded with.
func (m *model) propsOf(e managedEntry) map[string]string {
	if e.props != nil {
		return e.props
	}
	return m.props
}
