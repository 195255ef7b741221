// Package baseupdate tells which newer tag of an image's base image removes
// the most findings: it lists the tags of the base's release line (package
// baseimage, Candidates) in a registry repository or a directory of saved
// reports, reads each candidate's inventory (from the directory, from its
// cache, or by pulling and scanning it), matches it, and compares its
// findings with the current base image's.
//
// The current base image is the tag whose layers are the image's base
// layers (or whose digest the image names); when the source has none, the
// findings of the image's base layers stand for it.
package baseupdate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigil-scanner/vigil/baseimage"
	"github.com/vigil-scanner/vigil/evaluate"
	"github.com/vigil-scanner/vigil/image"
	"github.com/vigil-scanner/vigil/image/pick"
	"github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/policy"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/scan"
)

// Options say where to look for candidates and how to judge them.
type Options struct {
	// Source is a directory of vigil JSON reports of base images (with
	// their packages), or a repository ("registry.example.com/library/debian")
	// whose tags are read.
	Source string
	// Access reaches the registry.
	Access remote.Access
	// CacheDir keeps the inventory of each candidate pulled from a
	// registry, by manifest digest, so that later runs pull nothing; ""
	// keeps none.
	CacheDir string
	// Scan reads a pulled candidate (its layer cache and logger).
	Scan scan.Options
	// Matcher matches the candidates' inventories.
	Matcher evaluate.Matcher
	// Filter says which findings count, as for the scan (ExcludeBase is
	// ignored: a base image is all base).
	Filter policy.Filter
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
}

// Advise returns the candidate tags for rep's base image and what each
// changes, most risk removed first, and notes for a person (why no advice
// could be given). It fails when the source cannot be read.
func Advise(ctx context.Context, rep *report.Report, opts Options) ([]report.BaseUpdate, []string, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b := rep.Artifact.Base
	if b == nil || b.Name == "" {
		return nil, []string{"--base-updates: the base image's name is not known (no annotation, label or known base image names it)"}, nil
	}
	_, tag, ok := baseimage.SplitTag(b.Name)
	if !ok {
		return nil, []string{fmt.Sprintf("--base-updates: the base image %s is not named by a tag", b.Name)}, nil
	}
	platform, err := pick.ParsePlatform(rep.Artifact.Platform)
	if err != nil {
		return nil, nil, err
	}
	images, err := sourceImages(ctx, opts, tag, platform)
	if err != nil {
		return nil, nil, err
	}
	var cur *baseimage.KnownImage
	tags := make([]string, 0, len(images))
	byTag := map[string]*baseimage.KnownImage{}
	baseLayers := baseDiffIDs(rep)
	for i := range images {
		img := &images[i]
		_, t, ok := baseimage.SplitTag(img.Name)
		if !ok {
			continue
		}
		tags = append(tags, t)
		byTag[t] = img
		if (len(baseLayers) > 0 && slices.Equal(img.DiffIDs, baseLayers)) ||
			(len(baseLayers) == 0 && b.Digest != "" && slices.Contains(img.Digests, b.Digest)) {
			if cur == nil || baseimage.MoreSpecific(img.Name, cur.Name) {
				cur = img
			}
		}
	}
	// A base image is all base: the filter counts its findings whatever
	// ExcludeBase says.
	f := opts.Filter
	f.ExcludeBase = false
	pol, err := policy.Load(policy.Options{Filter: f})
	if err != nil {
		return nil, nil, err
	}
	a := adviser{opts: opts, platform: rep.Artifact.Platform, policy: pol}
	from := b.Name
	var before findingSet
	switch {
	case cur != nil:
		from = cur.Name
		if before, err = a.findings(ctx, cur); err != nil {
			return nil, nil, err
		}
	case len(baseLayers) > 0:
		if before, err = a.findingsOf(ctx, "the image's base layers", baseInventory(rep)); err != nil {
			return nil, nil, err
		}
	default:
		return nil, []string{fmt.Sprintf("--base-updates: %s is not in %s and the image's base layers are not known", b.Name, opts.Source)}, nil
	}
	_, curTag, _ := baseimage.SplitTag(from)
	var out []report.BaseUpdate
	for _, t := range baseimage.Candidates(curTag, tags) {
		img := byTag[t]
		if cur != nil && slices.Equal(img.DiffIDs, cur.DiffIDs) {
			continue // the same image under another tag
		}
		after, err := a.findings(ctx, img)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, compare(from, img, before, after))
	}
	slices.SortFunc(out, func(x, y report.BaseUpdate) int {
		return cmp.Or(cmp.Compare(y.RiskRemoved, x.RiskRemoved), cmp.Compare(x.Findings, y.Findings), strings.Compare(x.To, y.To))
	})
	var notes []string
	if len(out) == 0 {
		notes = append(notes, fmt.Sprintf("--base-updates: no newer tag of %s's line in %s", from, opts.Source))
	}
	return out, notes, nil
}

// sourceImages lists the source's images: every saved report of a
// directory, or the candidate tags (and the current one) of a repository.
func sourceImages(ctx context.Context, opts Options, tag string, platform v1.Platform) ([]baseimage.KnownImage, error) {
	if st, err := os.Stat(opts.Source); err == nil && st.IsDir() {
		return baseimage.LoadDir(opts.Source)
	}
	return baseimage.FromRegistry(ctx, opts.Source, baseimage.RegistryOptions{
		Access: opts.Access, Platform: platform, Logger: opts.Logger,
		Tags: func(all []string) []string {
			keep := baseimage.Candidates(tag, all)
			if slices.Contains(all, tag) {
				keep = append(keep, tag)
			}
			return keep
		},
	})
}

// baseDiffIDs are the diff IDs of rep's base layers.
func baseDiffIDs(rep *report.Report) []string {
	return baseimage.Layers(&inventory.Inventory{Artifact: rep.Artifact})
}

type adviser struct {
	opts     Options
	platform string         // "linux/amd64"
	policy   *policy.Policy // opts.Filter, counting base findings
}

// finding is what a comparison needs of one finding.
type finding struct {
	severity string
	risk     float64
}

// findingSet is a set of findings keyed by package name and id.
type findingSet map[string]finding

// count collects rep's findings (none is suppressed: no ignore file or
// VEX is applied).
func count(rep *report.Report) findingSet {
	set := findingSet{}
	for _, res := range rep.Results {
		for i := range res.Vulnerabilities {
			f := &res.Vulnerabilities[i]
			set[f.PkgName+"\x00"+f.ID] = finding{severity: f.Severity, risk: f.Risk.Score}
		}
	}
	return set
}

// baseInventory is rep's inventory reduced to the packages of its base
// layers: what stands for the current base image when the source does not
// have it.
func baseInventory(rep *report.Report) *inventory.Inventory {
	inv := rep.Inventory()
	for i := range inv.Results {
		inv.Results[i].Packages = slices.DeleteFunc(inv.Results[i].Packages, func(p inventory.Package) bool { return !p.Layer.Base })
	}
	return inv
}

// findings matches img's inventory and counts what the filter keeps.
func (a adviser) findings(ctx context.Context, img *baseimage.KnownImage) (findingSet, error) {
	inv, err := a.inventory(ctx, img)
	if err != nil {
		return nil, err
	}
	return a.findingsOf(ctx, img.Name, inv)
}

// findingsOf matches inv and counts what the filter keeps.
func (a adviser) findingsOf(ctx context.Context, what string, inv *inventory.Inventory) (findingSet, error) {
	res, err := evaluate.Evaluate(ctx, inv, evaluate.Options{Matcher: a.opts.Matcher, Policy: a.policy})
	if err != nil {
		return nil, fmt.Errorf("base image %s: %w", what, err)
	}
	return count(res.Report), nil
}

// inventory returns img's inventory: saved with it, cached, or pulled and
// scanned (then cached).
func (a adviser) inventory(ctx context.Context, img *baseimage.KnownImage) (*inventory.Inventory, error) {
	if img.Inventory != nil {
		return img.Inventory, nil
	}
	if len(img.Digests) == 0 {
		return nil, fmt.Errorf("base image %s: no digest to pull it by", img.Name)
	}
	digest := img.Digests[len(img.Digests)-1] // the platform image's
	cached := ""
	if a.opts.CacheDir != "" {
		cached = filepath.Join(a.opts.CacheDir, strings.ReplaceAll(digest, ":", "-")+".json")
		if inv, err := readCached(cached); err == nil {
			a.opts.Logger.Debug("base image inventory from cache", "image", img.Name, "digest", digest)
			return inv, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			a.opts.Logger.Warn("base image cache entry unreadable; pulling again", "file", cached, "err", err)
		}
	}
	repo, _, _ := baseimage.SplitTag(img.Name)
	a.opts.Logger.Info("reading base image candidate", "image", img.Name)
	pulled, err := image.Open(ctx, repo+"@"+img.Digests[0], image.Options{
		Sources: []string{image.SourceRemote}, Platform: a.platform, Registry: a.opts.Access, Logger: a.opts.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("base image %s: %w", img.Name, err)
	}
	defer pulled.Close()
	so := a.opts.Scan
	so.BaseImages = nil
	inv, err := scan.Image(ctx, pulled, scan.ImageMeta{Name: img.Name, RepoDigests: pulled.RepoDigests, RepoTags: []string{img.Name}}, so)
	if err != nil {
		return nil, fmt.Errorf("base image %s: %w", img.Name, err)
	}
	inv.Artifact.Platform = pulled.Platform
	if cached != "" && len(inv.Warnings) == 0 {
		if err := writeCached(cached, inv); err != nil {
			a.opts.Logger.Warn("base image inventory not cached", "file", cached, "err", err)
		}
	}
	return inv, nil
}

func readCached(path string) (*inventory.Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := report.ReadJSON(f)
	if err != nil {
		return nil, err
	}
	return r.Inventory(), nil
}

// writeCached stores inv as a JSON report with its packages, atomically.
func writeCached(path string, inv *inventory.Inventory) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".inventory-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := report.WriteJSON(tmp, report.FromInventory(inv), report.Options{ListAllPkgs: true}); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// compare says what moving from the current base (before) to img (after)
// changes.
func compare(from string, img *baseimage.KnownImage, before, after findingSet) report.BaseUpdate {
	u := report.BaseUpdate{From: from, To: img.Name, Findings: len(after), Severities: map[string]int{}}
	if len(img.Digests) > 0 {
		u.Digest = img.Digests[0]
	}
	risk := 0.0
	for k, f := range before {
		risk += f.risk
		u.Severities[f.severity]--
		if _, ok := after[k]; !ok {
			u.Removed++
		}
	}
	for k, f := range after {
		risk -= f.risk
		u.Severities[f.severity]++
		if _, ok := before[k]; !ok {
			u.Added++
		}
	}
	for s, n := range u.Severities {
		if n == 0 {
			delete(u.Severities, s)
		}
	}
	if len(u.Severities) == 0 {
		u.Severities = nil
	}
	u.RiskRemoved = math.Round(risk*10) / 10
	return u
}
