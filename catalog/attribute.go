package catalog

import (
	"context"
	"io/fs"
	"log/slog"
	"slices"

	"github.com/vigil-scanner/vigil/inventory"
)

// FileInputs is implemented by catalogers that can name, for a package
// they found, the files of the tree that decide whether they find it: most
// language catalogers read each package from one file (a package.json, a
// METADATA, a jar, a binary), which its FilePath names. Run then
// attributes such packages to layers from the history of those files
// alone, instead of cataloging the whole tree again as it stood after each
// earlier layer (which, for an image of many layers and packages, costs
// layers × packages).
type FileInputs interface {
	// Inputs returns the files (slash-separated, without a leading slash)
	// whose contents, or absence, decide whether Catalog, given the same
	// Env, finds the packages whose FilePath is filePath; when none of
	// them exists, it finds none. The list may name more files than
	// those read, never fewer. It returns false when that is not known
	// (a lockfile whose project's manifests are read with it).
	Inputs(filePath string) ([]string, bool)
}

// fileHistory is implemented by trees that know what each layer did to
// each path (*layerfs.Tree).
type fileHistory interface {
	// History returns, in increasing order, the layers that added,
	// replaced or removed the entry at path.
	History(path string) []int
	// Only returns the filesystem as it stood after layer i, holding only
	// the entries at paths (and the directories that lead to them); nil
	// when none of them existed then, and false when one of them was a
	// symbolic link (which could lead anywhere).
	Only(i int, paths []string) (fs.FS, bool)
}

// pkgKey identifies a package across runs of one cataloger.
type pkgKey struct {
	typ, name, version, arch, filePath string
}

func keyOf(r *inventory.Result, p *inventory.Package) pkgKey {
	return pkgKey{r.Type, p.Name, p.Version, p.Arch, p.FilePath}
}

// attribute fills Package.Layer in results, c's output on the final view.
// A package belongs to the earliest layer i such that it is in c's output
// for the view after i and after every later layer that changed c's
// inputs.
//
// When c names the input files of a package (FileInputs) and the tree
// knows their history, c runs again only on those files, only as they
// stood after the changed layers at which one of them had changed, all
// packages that need such a run at a layer together (byFiles). Otherwise
// c runs on the whole views after the changed layers, newest first, while
// some package is still unattributed (byViews). Both give the same layer:
// a package's presence can only change where its inputs do.
func attribute(ctx context.Context, tree Tree, c Cataloger, env Env, results []inventory.Result, layers []inventory.Layer, logger *slog.Logger) error {
	changed := tree.Changed(c.Wants)
	if len(changed) == 0 {
		return nil // no input came from any layer (nothing to attribute)
	}
	// since[k] is the earliest changed-layer index (into changed) from
	// which k has been present up to the final view.
	since := make(map[pkgKey]int)
	var keys []pkgKey
	for i := range results {
		for j := range results[i].Packages {
			k := keyOf(&results[i], &results[i].Packages[j])
			if _, ok := since[k]; !ok {
				since[k] = len(changed) - 1
				keys = append(keys, k)
			}
		}
	}
	fi, ok1 := c.(FileInputs)
	fh, ok2 := tree.(fileHistory)
	rest := keys
	if ok1 && ok2 {
		var err error
		if rest, err = byFiles(ctx, fh, c, fi, env, changed, keys, since, logger); err != nil {
			return err
		}
	}
	if err := byViews(ctx, tree, c, env, changed, rest, since, logger); err != nil {
		return err
	}
	for i := range results {
		for j := range results[i].Packages {
			p := &results[i].Packages[j]
			li := changed[since[keyOf(&results[i], p)]]
			if li < len(layers) {
				l := layers[li]
				p.Layer = inventory.LayerRef{Digest: l.Digest, DiffID: l.DiffID, CreatedBy: l.CreatedBy}
			}
		}
	}
	return nil
}

// byViews sets since for keys by running c on the views after the changed
// layers, newest first, while some key is still present.
func byViews(ctx context.Context, tree Tree, c Cataloger, env Env, changed []int, keys []pkgKey, since map[pkgKey]int, logger *slog.Logger) error {
	last := len(changed) - 1
	open := slices.Clone(keys) // keys present at every view examined so far
	for j := last - 1; j >= 0 && len(open) > 0; j-- {
		if err := ctx.Err(); err != nil {
			return err
		}
		present, err := catalogKeys(ctx, c, tree.At(changed[j]), env, changed[j], logger)
		if err != nil {
			return err
		}
		open = keep(open, present, since, j)
	}
	return nil
}

// keep returns the keys of open that are present, setting their since to
// j; the others have stopped at j+1.
func keep(open []pkgKey, present map[pkgKey]bool, since map[pkgKey]int, j int) []pkgKey {
	still := open[:0]
	for _, k := range open {
		if present[k] {
			since[k] = j
			still = append(still, k)
		}
	}
	return still
}

// catalogKeys runs c on fsys (the view after layer) and returns the keys
// of what it finds. A failure (other than the context's) finds nothing.
func catalogKeys(ctx context.Context, c Cataloger, fsys fs.FS, env Env, layer int, logger *slog.Logger) (map[pkgKey]bool, error) {
	rs, err := c.Catalog(ctx, fsys, env)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		logger.Debug("cataloger failed on an earlier layer", "cataloger", c.Name(), "layer", layer, "err", err)
		rs = nil
	}
	present := make(map[pkgKey]bool)
	for i := range rs {
		for k := range rs[i].Packages {
			present[keyOf(&rs[i], &rs[i].Packages[k])] = true
		}
	}
	return present, nil
}

// fileGroup is the packages read from one file, with their inputs.
type fileGroup struct {
	inputs []string
	hist   []int    // layers that changed an input, increasing
	next   int      // hist[:next] are at or below the view examined next
	open   []pkgKey // keys present at every view examined so far
}

// byFiles sets since for the keys whose inputs c names, as byViews would:
// walking the changed layers newest first, a group of packages whose
// inputs did not change between two views is present in the earlier one
// as it was in the later one; where they did change, c runs on the inputs
// alone, as they stood, together with every other group that needs a run
// at that view. It returns the keys left to byViews: those whose inputs c
// cannot name, or that a symbolic link among their inputs makes depend on
// more.
func byFiles(ctx context.Context, fh fileHistory, c Cataloger, fi FileInputs, env Env, changed []int, keys []pkgKey, since map[pkgKey]int, logger *slog.Logger) ([]pkgKey, error) {
	var rest []pkgKey
	groups := make(map[string]*fileGroup)
	var order []*fileGroup
	for _, k := range keys {
		if g := groups[k.filePath]; g != nil {
			g.open = append(g.open, k)
			continue
		}
		inputs, ok := fi.Inputs(k.filePath)
		var hist []int
		if ok && k.filePath != "" {
			for _, p := range inputs {
				hist = append(hist, fh.History(p)...)
			}
		}
		if len(hist) == 0 {
			rest = append(rest, k)
			continue
		}
		slices.Sort(hist)
		hist = slices.Compact(hist)
		g := &fileGroup{inputs: inputs, hist: hist, next: len(hist), open: []pkgKey{k}}
		groups[k.filePath] = g
		order = append(order, g)
	}
	last := len(changed) - 1
	for j := last - 1; j >= 0 && len(order) > 0; j-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// The groups whose inputs changed after the view at j: the
		// others are present there as at j+1.
		var need []*fileGroup
		var paths []string
		live := order[:0]
		for _, g := range order {
			changedSince := false
			for g.next > 0 && g.hist[g.next-1] > changed[j] {
				g.next--
				changedSince = true
			}
			if !changedSince {
				for _, k := range g.open {
					since[k] = j
				}
				live = append(live, g)
				continue
			}
			need = append(need, g)
			paths = append(paths, g.inputs...)
		}
		order = live
		if len(need) == 0 {
			continue
		}
		fsys, ok := fh.Only(changed[j], paths)
		if !ok {
			for _, g := range need {
				rest = append(rest, g.open...)
				for _, k := range g.open {
					since[k] = last // byViews starts these again
				}
			}
			// Keys already stopped are settled; only open ones move.
			continue
		}
		present := map[pkgKey]bool{}
		if fsys != nil {
			var err error
			if present, err = catalogKeys(ctx, c, fsys, env, changed[j], logger); err != nil {
				return nil, err
			}
		}
		for _, g := range need {
			if g.open = keep(g.open, present, since, j); len(g.open) > 0 {
				order = append(order, g)
			}
		}
	}
	return rest, nil
}
