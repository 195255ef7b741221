// Package maven catalogs the dependencies Maven projects declare in their
// pom.xml.
//
// Each pom.xml of the scanned tree is one result, target its path, type
// "pom". Its project (groupId:artifactId, version, inherited from the
// parent when absent) is the root; its packages are the dependencies it
// declares and those its parents declare, with versions resolved as Maven
// does: properties (the POM's, its parents', its activeByDefault
// profiles', and the project.* built-ins), dependencyManagement (its own,
// its imported BOMs', its parents'), parent POMs found by <relativePath>
// or by coordinates in the tree, then in the local repository
// (Options.LocalRepository), then, when Options.Remote is set, in a
// remote repository. A version that cannot be resolved is never guessed:
// the package is reported without a version (so never matched) and a
// warning names it, and the parents and BOMs that were missing.
//
// Only declared dependencies are reported: their own dependencies are
// known only from the repository, and a pom.xml is no lockfile. Scope
// test is Dev; compile, runtime, provided and system are runtime. A
// dependency on another module of the tree is that module's code, and
// carries its path as origin.
package maven

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// Type is the result type, as Trivy names it.
const Type = "pom"

const maxPOM = 4 << 20

// Options say where POMs that are not in the scanned tree are looked for.
type Options struct {
	// LocalRepository is a local Maven repository laid out as
	// ~/.m2/repository is; nil looks in none.
	LocalRepository fs.FS
	// Remote fetches POMs from a remote repository (Maven Central:
	// HTTPRepository{URL: CentralURL}); nil resolves offline.
	Remote Remote
}

// Remote fetches the POM of an artifact from a remote repository.
type Remote interface {
	// POM returns the POM of group:artifact:version; an error wrapping
	// fs.ErrNotExist when the repository has none.
	POM(ctx context.Context, group, artifact, version string) ([]byte, error)
}

// CentralURL is Maven Central's repository.
const CentralURL = "https://repo.maven.apache.org/maven2"

// HTTPRepository is a Maven repository served over HTTP(S).
type HTTPRepository struct {
	URL    string       // base URL, without a trailing slash
	Client *http.Client // nil means http.DefaultClient
}

// POM implements Remote.
func (h HTTPRepository) POM(ctx context.Context, group, artifact, version string) ([]byte, error) {
	u := strings.TrimSuffix(h.URL, "/") + "/" + strings.ReplaceAll(group, ".", "/") + "/" + artifact + "/" + version + "/" + artifact + "-" + version + ".pom"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	client := cmp.Or(h.Client, http.DefaultClient)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s: %w", u, fs.ErrNotExist)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPOM+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	if len(b) > maxPOM {
		return nil, fmt.Errorf("%s: %w", u, langpkg.ErrTooLarge)
	}
	return b, nil
}

// Cataloger finds the dependencies of pom.xml files.
type Cataloger struct {
	opts Options
}

// New returns a Maven cataloger.
func New(opts Options) Cataloger { return Cataloger{opts: opts} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "maven" }

// Wants implements catalog.Cataloger: pom.xml files outside build output
// (target/).
func (Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size <= maxPOM && langpkg.Base(p) == "pom.xml" &&
		!strings.HasPrefix(p, "target/") && !strings.Contains(p, "/target/")
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	r := &resolver{ctx: ctx, fsys: fsys, opts: c.opts, byPath: map[string]*pom{}, byGAV: map[string]string{},
		cache: map[string]*pom{}, errs: map[string]error{}, models: map[string]*model{}}
	var files []string
	err := langpkg.Walk(ctx, fsys, env, "maven", func(p string) error {
		if !c.Wants(p, 0, 0) {
			return nil
		}
		b, err := langpkg.ReadFile(fsys, p, maxPOM)
		if err != nil {
			env.Warn(p, "maven: cannot read", err)
			return nil
		}
		pm, err := parsePOM(b)
		if err != nil {
			env.Warn(p, "maven: malformed pom.xml", err)
			return nil
		}
		r.byPath[p] = pm
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Index the tree's POMs by their coordinates (a reference to a
	// property of the POM itself is expanded first).
	for _, p := range files {
		pm := r.byPath[p]
		c := pm.coordinates()
		c = gav{expandWith(c.group, pm.Properties), c.artifact, expandWith(c.version, pm.Properties)}
		if _, dup := r.byGAV[c.String()]; !dup {
			r.byGAV[c.String()] = p
		}
	}
	var results []inventory.Result
	for _, p := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		results = append(results, r.result(p, env)...)
	}
	langpkg.SortResults(results)
	return results, nil
}

// result catalogs the pom.xml at p.
func (r *resolver) result(p string, env catalog.Env) []inventory.Result {
	m := r.effective(r.byPath[p], p, 0)
	root := langpkg.MavenPackage(m.self.group, m.self.artifact, m.self.version)
	root.Root = true
	var pkgs []inventory.Package
	var unresolved []string
	seen := map[string]bool{}
	for _, d := range m.deps {
		group, artifact := m.expand(d.GroupID), m.expand(d.ArtifactID)
		if group == "" || artifact == "" || strings.Contains(group+artifact, "${") {
			unresolved = append(unresolved, cmp.Or(group, "?")+":"+cmp.Or(artifact, "?"))
			continue
		}
		version := m.expand(d.Version)
		scope := d.Scope
		if md, props, ok := m.managedFor(group, artifact); ok {
			if d.Version == "" {
				version = expandWith(md.Version, props)
			}
			if scope == "" {
				scope = md.Scope
			}
		}
		if !plainVersion(version) {
			unresolved = append(unresolved, group+":"+artifact+versionNote(version))
			version = ""
		}
		pkg := langpkg.MavenPackage(group, artifact, version)
		if module, ok := r.byGAV[gav{group, artifact, version}.String()]; ok && version != "" {
			pkg.Origin = "file:" + langpkg.Dir(module)
			pkg.Purl = langpkg.WithOrigin(pkg.Purl, pkg.Origin)
		}
		pkg.Dev = scope == "test"
		if seen[pkg.ID] {
			continue
		}
		seen[pkg.ID] = true
		root.DependsOn = append(root.DependsOn, pkg.ID)
		pkgs = append(pkgs, pkg)
	}
	if len(unresolved) > 0 {
		msg := fmt.Sprintf("%d dependency versions cannot be resolved and are reported without one: %s", len(unresolved), strings.Join(unresolved, ", "))
		if len(m.missing) > 0 {
			msg += "; not found: " + strings.Join(slices.Compact(m.missing), "; ")
		}
		env.Warn(p, "maven: unresolved versions", fmt.Errorf("%s", msg))
	} else if len(m.missing) > 0 {
		env.Warn(p, "maven: incomplete project model", fmt.Errorf("not found: %s", strings.Join(slices.Compact(m.missing), "; ")))
	}
	pkgs = append(pkgs, root)
	for i := range pkgs {
		pkgs[i].FilePath = p
	}
	return langpkg.Result(p, Type, pkgs)
}

// plainVersion reports a version Maven would use as it is: no unresolved
// property, no range.
func plainVersion(v string) bool {
	return v != "" && !strings.Contains(v, "${") && !strings.ContainsAny(v, "[](), ")
}

func versionNote(v string) string {
	switch {
	case v == "":
		return " (no version, and none managed by the POMs found)"
	case strings.Contains(v, "${"):
		return " (" + v + ")"
	}
	return " (range " + v + ")"
}
