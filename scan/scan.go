// Package scan builds the inventory of an image or a directory: it reads
// the files the catalogers want (layerfs) and runs them (catalog.Run).
package scan

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigil-scanner/vigil/baseimage"
	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/all"
	"github.com/vigil-scanner/vigil/distro"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/layerfs"
)

// Options configure a scan.
type Options struct {
	// Catalogers to run; nil means all.Catalogers for the kind of scan
	// (installed packages for images and root filesystems, lockfiles for
	// project directories).
	Catalogers []catalog.Cataloger
	// Catalog configures the default catalogers (when Catalogers is
	// nil): where Maven POMs outside the tree are looked for.
	Catalog all.Options
	// Read configures the layer walk: limits, parallelism, Condense and
	// the layer cache. Its Want is replaced by the union of what the
	// catalogers and OS detection want; a nil Logger is replaced by
	// Logger. With Read.Cache set and Read.CacheKey empty, Image sets the
	// cache key when it knows what the catalogers want: when Catalogers
	// and Read.Condense are nil (all.CacheKey and vigil's build). Dir
	// never uses the cache: a directory has no content digest.
	Read layerfs.Options
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// Now is the scan date, for end-of-support checks; zero means now.
	Now time.Time
	// NoInventoryCache leaves out the per-image inventory entry that Image
	// otherwise reads from and writes to Read.Cache (layer records are
	// still used): for callers that keep each image's inventory
	// themselves and never scan the same image twice (registry watch).
	NoInventoryCache bool
	// BaseImages are known base images, matched by layers when Image
	// identifies an image's base (package baseimage); nil means none.
	BaseImages *baseimage.Known
	// Skip, when set, leaves out of the scan the files for which it
	// returns true (catalog.RunOptions.Skip). An image scan with Skip set
	// neither uses nor fills the inventory cache.
	Skip func(path string) bool
	// Classes, when set, are the classes of packages asked for
	// (catalog.RunOptions.Classes; Filter.Classes): without language
	// packages, the language catalogers are left out of Catalogers, and
	// the layer walk keeps none of their files. An image scan with Classes
	// set neither uses nor fills the inventory cache.
	Classes []string
}

// ImageMeta is what the image source knows about an image besides its
// contents.
type ImageMeta struct {
	Name        string // as the user wrote it: "alpine:3.19", "img.tar"
	RepoDigests []string
	RepoTags    []string
	// DigestsVerified says that the source checks each layer's stored
	// bytes against the digest the manifest gives, as it delivers them (a
	// registry pull). Otherwise (archives, layouts, daemon exports) the
	// layers' bytes are hashed before anything cached about them is used;
	// see layerfs.Options.TrustDigests.
	DigestsVerified bool
}

// Image returns the inventory of img.
func Image(ctx context.Context, img v1.Image, meta ImageMeta, opts Options) (*inventory.Inventory, error) {
	defaultCatalogers := opts.Catalogers == nil
	opts = opts.withDefaults(all.Installed)
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	id, err := img.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("reading image config digest: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("reading image manifest: %w", err)
	}
	layers := imageLayers(m, cfg)
	ro := readOptions(opts)
	ro.TrustDigests = meta.DigestsVerified
	if ro.CacheKey == "" && defaultCatalogers && opts.Read.Condense == nil {
		ro.CacheKey = all.CacheKey(all.Installed) + "; " + buildID()
		if !slices.Contains(opts.Classes, inventory.ClassLangPkgs) && len(opts.Classes) > 0 {
			ro.CacheKey += "; no language catalogers"
		}
	}
	osRel, results, warnings, err := imageContents(ctx, img, meta, opts, ro, id.String(), layers)
	if err != nil {
		return nil, err
	}
	platform := cfg.OS + "/" + cfg.Architecture
	if cfg.Variant != "" {
		platform += "/" + cfg.Variant
	}
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{
			Name:        meta.Name,
			Type:        inventory.TypeContainerImage,
			ImageID:     id.String(),
			RepoDigests: meta.RepoDigests,
			RepoTags:    meta.RepoTags,
			Platform:    platform,
			OS:          osRel,
			Layers:      layers,
		},
		Results:  results,
		Warnings: warnings,
	}
	baseimage.Mark(inv, baseimage.Identify(m, cfg, opts.BaseImages))
	return inv, nil
}

// imageContents reads the image's layers and runs the catalogers, or takes
// their result from the inventory cache when the image was read before.
// Only a read without warnings is cached, so a cached result has none.
// The cache is keyed by the config digest and every layer's digest, and a
// cached result is used only once the layers are known to hold what their
// digests say (checked by the source or hashed here): a result was stored
// only after a read that found each layer to match its digest and diff ID.
func imageContents(ctx context.Context, img v1.Image, meta ImageMeta, opts Options, ro layerfs.Options, id string, layers []inventory.Layer) (*inventory.OS, []inventory.Result, []inventory.Warning, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	key := ""
	if ro.Cache != nil && ro.CacheKey != "" && opts.Skip == nil && len(opts.Classes) == 0 && !opts.NoInventoryCache {
		key = invCacheKey(ro.CacheKey, id, layers)
		if osRel, results, ok := loadInventory(ro.Cache, key, meta.Name, now); ok {
			if !ro.TrustDigests {
				if err := layerfs.VerifyDigests(ctx, img, ro.Parallelism); err != nil {
					return nil, nil, nil, err
				}
			}
			opts.Logger.Debug("inventory from cache", "image", meta.Name, "id", id)
			return osRel, results, nil, nil
		}
	}
	tree, err := layerfs.ReadImage(ctx, img, ro)
	if err != nil {
		return nil, nil, nil, err
	}
	if tree.Len() != len(layers) {
		return nil, nil, nil, fmt.Errorf("image has %d layers but its manifest lists %d", tree.Len(), len(layers))
	}
	tree, out, err := catalogTree(ctx, tree, opts.Catalogers, catalog.RunOptions{
		Name: meta.Name, Layers: layers, Logger: opts.Logger, Now: now, Skip: opts.Skip, Classes: opts.Classes})
	if err != nil {
		return nil, nil, nil, err
	}
	warnings := append(treeWarnings(tree, layers, opts), out.Warnings...)
	if key != "" && len(warnings) == 0 {
		if err := storeInventory(ro.Cache, key, out.OS, out.Results); err != nil {
			opts.Logger.Debug("inventory cache: not stored", "err", err)
		}
	}
	return out.OS, out.Results, warnings, nil
}

// maxFetches bounds the rounds of catalogTree: files read in one round
// (a status file reached through a link) name others (the file lists
// beside it, reached through the same link).
const maxFetches = 3

// catalogTree runs the catalogers on tree. When they, or links in the
// tree, reached files that the layer walk did not keep (a database behind
// a directory symlink, a hard link to a file no cataloger wants by name),
// those files are read from their layers and the catalogers run again,
// so that the inventory is what a container would see. It returns the
// tree the inventory was taken from; its warnings name what could still
// not be read.
func catalogTree(ctx context.Context, tree *layerfs.Tree, cats []catalog.Cataloger, ro catalog.RunOptions) (*layerfs.Tree, *catalog.Output, error) {
	for round := 0; ; round++ {
		out, err := catalog.Run(ctx, tree, cats, ro)
		if err != nil {
			return nil, nil, err
		}
		unread := tree.Unread()
		if len(unread) == 0 || round == maxFetches {
			return tree, out, nil
		}
		if ro.Logger != nil {
			ro.Logger.Debug("reading files reached through links", "files", len(unread))
		}
		if tree, err = tree.Fetch(ctx, unread); err != nil {
			return nil, nil, err
		}
	}
}

// treeWarnings are the layer walk's warnings as the inventory records them:
// each names its layer by the diff ID of layers (none for a directory).
// Warnings about a file only catalogers whose packages were not asked for
// (opts.Classes) want are left out: the file is not part of the scan.
func treeWarnings(tree *layerfs.Tree, layers []inventory.Layer, opts Options) []inventory.Warning {
	var ws []inventory.Warning
	for _, w := range tree.Warnings() {
		if w.Path != "" && !askedFor(strings.TrimPrefix(path.Clean("/"+w.Path), "/"), opts) {
			opts.Logger.Debug("not part of the packages asked for", "layer", w.Layer, "path", w.Path, "warning", w.Msg)
			continue
		}
		iw := inventory.Warning{Path: w.Path, Message: w.Msg}
		if w.Index < len(layers) {
			iw.Layer = layers[w.Index].DiffID
		}
		ws = append(ws, iw)
	}
	return ws
}

// askedFor reports whether the file at p is part of what opts ask to
// scan: true unless opts.Classes leaves out the classes of every cataloger
// that wants it (OS detection counts as OS packages).
func askedFor(p string, opts Options) bool {
	if len(opts.Classes) == 0 {
		return true
	}
	wanted := false
	ask := func(class string) bool {
		wanted = true
		return slices.Contains(opts.Classes, class)
	}
	if distro.Wants(p) && ask(inventory.ClassOSPkgs) {
		return true
	}
	for _, c := range opts.Catalogers {
		if !c.Wants(p, 0o644, 0) {
			continue
		}
		class := inventory.ClassLangPkgs
		if cl, ok := c.(interface{ Class() string }); ok && cl.Class() == inventory.ClassOSPkgs {
			class = inventory.ClassOSPkgs
		}
		if ask(class) {
			return true
		}
	}
	return !wanted
}

// imageLayers describes the manifest's layers, base first. CreatedBy comes
// from the config history entries that made a layer (those not marked
// empty_layer), when they match the layers one for one.
func imageLayers(m *v1.Manifest, cfg *v1.ConfigFile) []inventory.Layer {
	var createdBy []string
	for _, h := range cfg.History {
		if !h.EmptyLayer {
			createdBy = append(createdBy, h.CreatedBy)
		}
	}
	if len(createdBy) != len(m.Layers) {
		createdBy = nil
	}
	layers := make([]inventory.Layer, len(m.Layers))
	for i, d := range m.Layers {
		layers[i] = inventory.Layer{Digest: d.Digest.String(), Size: d.Size}
		if i < len(cfg.RootFS.DiffIDs) {
			layers[i].DiffID = cfg.RootFS.DiffIDs[i].String()
		}
		if createdBy != nil {
			layers[i].CreatedBy = createdBy[i]
		}
	}
	return layers
}

// Dir returns the inventory of the directory tree at root, scanned as
// artifactType (inventory.TypeFilesystem or inventory.TypeRootfs).
// Symlinks are resolved inside root, never outside it.
func Dir(ctx context.Context, root, artifactType string, opts Options) (*inventory.Inventory, error) {
	mode := all.Project
	if artifactType == inventory.TypeRootfs {
		mode = all.Installed
	}
	opts = opts.withDefaults(mode)
	tree, err := layerfs.ReadDir(ctx, root, readOptions(opts))
	if err != nil {
		return nil, err
	}
	tree, out, err := catalogTree(ctx, tree, opts.Catalogers, catalog.RunOptions{
		Name: root, Logger: opts.Logger, Now: opts.Now, Skip: opts.Skip, Classes: opts.Classes})
	if err != nil {
		return nil, err
	}
	return &inventory.Inventory{
		Artifact: inventory.Artifact{Name: root, Type: artifactType, OS: out.OS},
		Results:  out.Results,
		Warnings: append(treeWarnings(tree, nil, opts), out.Warnings...),
	}, nil
}

func (o Options) withDefaults(mode all.Mode) Options {
	if o.Catalogers == nil {
		o.Catalogers = all.Catalogers(mode, o.Catalog)
	}
	if len(o.Classes) > 0 && !slices.Contains(o.Classes, inventory.ClassLangPkgs) {
		// catalog.Run would not run them: their files need not be kept.
		o.Catalogers = slices.DeleteFunc(slices.Clone(o.Catalogers), func(c catalog.Cataloger) bool {
			cl, ok := c.(interface{ Class() string })
			return !ok || cl.Class() != inventory.ClassOSPkgs
		})
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// readOptions sets the layer walk to keep what OS detection and the
// catalogers want.
func readOptions(o Options) layerfs.Options {
	r := o.Read
	cats := o.Catalogers
	r.Want = func(p string, mode fs.FileMode, size int64) bool {
		if distro.Wants(p) {
			return true
		}
		for _, c := range cats {
			if c.Wants(p, mode, size) {
				return true
			}
		}
		return false
	}
	if r.Condense == nil {
		r.Condense = condense(cats)
	}
	if r.Logger == nil {
		r.Logger = o.Logger
	}
	return r
}

// condense returns the layer walk's Condense hook: a file is condensed
// when every cataloger that wants it condenses it. When several do (Go
// and Rust binaries are both executables), the file is read once and
// their summaries joined (catalog.JoinCondense). A file that OS detection
// or a cataloger without a condenser also wants is kept whole.
func condense(cats []catalog.Cataloger) func(p string, mode fs.FileMode, size int64) layerfs.Condenser {
	return func(p string, mode fs.FileMode, size int64) layerfs.Condenser {
		if distro.Wants(p) {
			return nil
		}
		var fns []catalog.CondenseFunc
		for _, c := range cats {
			if !c.Wants(p, mode, size) {
				continue
			}
			cc, ok := c.(catalog.Condenser)
			if !ok {
				return nil
			}
			fn := cc.Condense(p, mode, size)
			if fn == nil {
				return nil
			}
			fns = append(fns, fn)
		}
		switch len(fns) {
		case 0:
			return nil
		case 1:
			return layerfs.Condenser(fns[0])
		default:
			return layerfs.Condenser(catalog.JoinCondense(fns...))
		}
	}
}

// buildID names the vigil build: its module version and VCS revision, as
// far as the Go toolchain recorded them. A development build with local
// changes is named by its revision only; all.LayerCacheVersion covers it.
func buildID() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "build unknown" + executableStamp()
	}
	id := "build " + bi.Main.Version
	exact := false
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			id += " " + s.Value
			exact = true
		case s.Key == "vcs.modified" && s.Value == "true":
			exact = false
		}
	}
	if !exact || bi.Main.Version == "(devel)" {
		// A development build: tell builds apart by the binary itself,
		// so a rebuilt vigil does not reuse what an older one cached.
		id += executableStamp()
	}
	return id
}

// executableStamp is the running binary's size and modification time.
func executableStamp() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	return fmt.Sprintf(" exe %d %d", fi.Size(), fi.ModTime().UnixNano())
}

// InventoryKey names what an image inventory depends on besides the
// image: the installed-package catalogers, their layer-cache version and
// vigil's build. A stored inventory with another key was made by an older
// vigil or cataloger set and is catalogued again.
func InventoryKey() string {
	return all.CacheKey(all.Installed) + "; " + buildID()
}
