package catalog

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vigil-scanner/vigil/distro"
	"github.com/vigil-scanner/vigil/inventory"
)

// Tree is a filesystem made of layers, base first; *layerfs.Tree is one.
type Tree interface {
	// FS returns the merged filesystem of every layer.
	FS() fs.FS
	// At returns the filesystem as it stood after layer i.
	At(i int) fs.FS
	// Changed returns, in increasing order, the layers that added,
	// replaced or removed a file for which match returns true.
	Changed(match func(path string, mode fs.FileMode, size int64) bool) []int
	// LayerOf returns the layer that holds the entry at path in the
	// merged filesystem, and false when there is none.
	LayerOf(path string) (int, bool)
	// Unreadable returns the paths of the merged filesystem that hold
	// something a cataloger wanted but that could not be read, with what
	// it is (see Env.Unreadable).
	Unreadable() map[string]string
}

// RunOptions describe the artifact being cataloged.
type RunOptions struct {
	// Name is the artifact's name, used in OS result targets
	// ("alpine:3.19 (alpine 3.19.1)").
	Name string
	// Layers describe the tree's layers, base first, to attribute packages
	// to the layer that introduced them. Empty for a plain filesystem:
	// packages then carry no layer.
	Layers []inventory.Layer
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// Now is the scan date EOSL is judged against; zero means time.Now().
	Now time.Time
	// Skip, when set, leaves out the files (slash-separated, without a
	// leading slash) for which it returns true: the catalogers do not
	// see them, so they give neither packages nor warnings, and an OS
	// package database left out cannot fail the run.
	Skip func(path string) bool
	// Classes, when set, are the classes of results asked for
	// (inventory.ClassOSPkgs, inventory.ClassLangPkgs). Language
	// catalogers run only when language packages are asked for. OS
	// catalogers always run, for the files their packages own are left
	// out of the language results; when OS packages are not asked for,
	// their results are dropped, and their errors and warnings, and OS
	// detection's, are only logged at debug level.
	Classes []string
}

// classer is implemented by catalogers that know the class of the
// results they return.
type classer interface{ Class() string }

// Run detects the operating system of tree and runs cats on it: those
// whose Class method returns inventory.ClassOSPkgs first, the others after
// in the given order, told through Env.Owned which files OS packages own.
// Every package is attributed to the earliest layer from which it stays
// present in the cataloger's output until the last layer. OS results are
// returned first, then the others ordered by target.
//
// An OS cataloger that fails fails Run: an OS package database that
// exists but cannot be read must not pass for an image without packages.
// Any other cataloger that fails is recorded as a warning and skipped.
// Warnings about a file carry the diff ID of the layer that holds it,
// when opts.Layers describe the tree's layers.
func Run(ctx context.Context, tree Tree, cats []Cataloger, opts RunOptions) (*Output, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if opts.Skip != nil {
		tree = skipTree{tree, opts.Skip}
	}
	asked := func(class string) bool { return len(opts.Classes) == 0 || slices.Contains(opts.Classes, class) }
	var warnings []inventory.Warning
	warned := func(w inventory.Warning) { warnings = append(warnings, w) }
	final := tree.FS()
	osRel, err := distro.DetectAt(final, now)
	switch {
	case err != nil && asked(inventory.ClassOSPkgs):
		logger.Warn("detecting the operating system", "err", err)
		warned(inventory.Warning{Message: "detecting the operating system: " + err.Error()})
	case err != nil:
		logger.Debug("detecting the operating system", "err", err)
	}

	ordered := slices.Clone(cats)
	slices.SortStableFunc(ordered, func(a, b Cataloger) int {
		return cmp.Compare(rank(a), rank(b))
	})

	owned := make(map[string]struct{})
	env := Env{OS: osRel, Logger: logger, Warned: warned, Owned: func(p string) bool {
		_, ok := owned[p]
		return ok
	}, Unreadable: unreadable(tree, opts.Skip)}
	// quiet is the Env of catalogers whose results were not asked for.
	quiet := env
	quiet.Logger, quiet.Warned = slog.New(slog.DiscardHandler), nil
	var osResults, langResults []inventory.Result
	for _, c := range ordered {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		class := inventory.ClassLangPkgs
		if rank(c) == 0 {
			class = inventory.ClassOSPkgs
		}
		if !asked(class) && class != inventory.ClassOSPkgs {
			continue
		}
		cenv := env
		if !asked(class) {
			cenv = quiet
		}
		results, err := c.Catalog(ctx, final, cenv)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			switch {
			case !asked(class):
				logger.Debug("cataloger failed; its results were not asked for", "cataloger", c.Name(), "err", err)
				continue
			case class == inventory.ClassOSPkgs:
				return nil, err
			}
			logger.Warn("cataloger failed", "cataloger", c.Name(), "err", err)
			warned(inventory.Warning{Message: c.Name() + ": " + err.Error()})
			continue
		}
		if !asked(class) {
			takeOwnership(owned, results)
			continue
		}
		if len(opts.Layers) > 0 {
			// The earlier views repeat what the final one warned about.
			if err := attribute(ctx, tree, c, quiet, results, opts.Layers, logger); err != nil {
				return nil, err
			}
		}
		for _, r := range results {
			if r.Class != inventory.ClassOSPkgs {
				langResults = append(langResults, r)
				continue
			}
			if osRel != nil {
				r.Target = fmt.Sprintf("%s (%s %s)", opts.Name, osRel.Family, osRel.Name)
				r.Type = osRel.Family
			}
			osResults = append(osResults, r)
		}
		// Ownership is taken after each cataloger so that a later
		// (language) one sees what the OS catalogers found.
		takeOwnership(owned, results)
	}
	slices.SortStableFunc(langResults, func(a, b inventory.Result) int { return strings.Compare(a.Target, b.Target) })
	for i := range warnings {
		w := &warnings[i]
		if w.Path == "" || w.Layer != "" {
			continue
		}
		if l, ok := tree.LayerOf(w.Path); ok && l < len(opts.Layers) {
			w.Layer = opts.Layers[l].DiffID
		}
	}
	return &Output{OS: osRel, Results: append(osResults, langResults...), Warnings: warnings}, nil
}

// takeOwnership adds to owned the files the OS packages of results own.
func takeOwnership(owned map[string]struct{}, results []inventory.Result) {
	for _, r := range results {
		if r.Class != inventory.ClassOSPkgs {
			continue
		}
		for _, p := range r.Packages {
			// A third-party package's files stay visible to the
			// language catalogers: its OS advisories do not cover
			// what it bundles (NodeSource's nodejs ships npm).
			if !distro.FromVendor(&p) {
				continue
			}
			for _, f := range p.InstalledFiles {
				owned[strings.TrimPrefix(f, "/")] = struct{}{}
			}
		}
	}
}

// unreadable is Env.Unreadable for tree: the first path, in order, of
// tree.Unreadable that is path, below it or above it. Nothing is
// unreadable at a path that skip leaves out.
func unreadable(tree Tree, skip func(string) bool) func(string) (string, string) {
	m := tree.Unreadable()
	paths := slices.Sorted(maps.Keys(m))
	return func(p string) (string, string) {
		if skip != nil && skip(p) {
			return "", ""
		}
		for _, u := range paths {
			if u == p || strings.HasPrefix(u, p+"/") || strings.HasPrefix(p, u+"/") {
				return u, m[u]
			}
		}
		return "", ""
	}
}

// Output is what Run found.
type Output struct {
	// OS is the detected operating system, or nil.
	OS *inventory.OS
	// Results are the OS results first, then the others ordered by
	// target.
	Results []inventory.Result
	// Warnings are what the catalogers could not read, in the order met.
	Warnings []inventory.Warning
}

// rank orders OS catalogers (0) before the others (1).
func rank(c Cataloger) int {
	if cl, ok := c.(classer); ok && cl.Class() == inventory.ClassOSPkgs {
		return 0
	}
	return 1
}
