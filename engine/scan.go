package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/vigil-scanner/vigil/alert"
	"github.com/vigil-scanner/vigil/evaluate"
	"github.com/vigil-scanner/vigil/image"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/layerfs"
	"github.com/vigil-scanner/vigil/scan"
	"github.com/vigil-scanner/vigil/store"
	"github.com/vigil-scanner/vigil/vulndb"
)

// runScan pulls and catalogues an image (unless its inventory was made
// with the current key), matches it and records its findings. A rebuilt
// tag's image alerts only on findings its previous digest did not have.
func (e *Engine) runScan(ctx context.Context, j store.Job) error {
	var p scanPayload
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	img := store.Image{Digest: p.Digest, Registry: p.Registry, Repository: p.Repository, Platform: p.Platform, InventoryKey: e.key}
	inv, key, err := e.st.Inventory(ctx, p.Digest)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err != nil || key != e.key {
		start := time.Now()
		inv, err = e.pull(ctx, p)
		if err != nil {
			if ctx.Err() == nil {
				if rerr := e.st.RecordScanError(ctx, e.opts.Now(), img, err); rerr != nil {
					e.log.Error("could not record scan error", "err", rerr)
				}
			}
			return fmt.Errorf("scanning %s@%s: %w", p.Repository, p.Digest, err)
		}
		img.Platform, img.ImageID = inv.Artifact.Platform, inv.Artifact.ImageID
		if err := e.st.SaveInventory(ctx, e.opts.Now(), img, inv); err != nil {
			return err
		}
		e.log.Info("image scanned", "image", p.Repository+"@"+p.Digest, "took", time.Since(start).Round(time.Millisecond))
	}
	reason := alert.ReasonNewImage
	var before map[string]bool
	if p.Recatalog {
		reason = alert.ReasonNewAdvisory // a new cataloger found a package in a known image
	} else if p.Previous != "" && p.Previous != p.Digest {
		prev, err := e.st.OpenFindings(ctx, p.Previous)
		if err != nil {
			return err
		}
		if _, _, err := e.st.Inventory(ctx, p.Previous); err == nil {
			reason = alert.ReasonRebuiltTag
			before = map[string]bool{}
			for _, f := range prev {
				before[f.Key()] = true
			}
		}
	}
	cur, err := e.st.Image(ctx, p.Digest)
	if err != nil {
		return err
	}
	if cur.DBDigest != "" && !p.Recatalog {
		// Matched before (a retried job, or the image is also another
		// tag's): only what is new to it is an alert, as after a
		// database change.
		reason = alert.ReasonNewAdvisory
	}
	ch, dbDigest, err := e.match(ctx, p.Digest, inv, reason, before, "")
	if err != nil {
		return err
	}
	if p.Previous != "" && p.Previous != p.Digest {
		if err := e.resolvePrevious(ctx, p.Previous, p.Digest, inv, ch); err != nil {
			return err
		}
	}
	if m, cur, _ := e.db.current(); m != nil && cur != dbDigest {
		// The database changed while this image was matched.
		return e.enqueueRematch(ctx)
	}
	return nil
}

// resolvePrevious records as resolved the findings of a rebuilt tag's
// previous image that the new image no longer has, when no tag names the
// previous image any more.
func (e *Engine) resolvePrevious(ctx context.Context, previous, digest string, inv *inventory.Inventory, _ store.Change) error {
	pimg, err := e.st.Image(ctx, previous)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	if len(pimg.Tags) > 0 {
		return nil
	}
	now, err := e.st.OpenFindings(ctx, digest)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, f := range now {
		have[f.Key()] = true
	}
	old, err := e.st.OpenFindings(ctx, previous)
	if err != nil {
		return err
	}
	var gone []string
	for _, f := range old {
		if !have[f.Key()] {
			gone = append(gone, f.Key())
		}
	}
	if len(gone) == 0 {
		return nil
	}
	return e.st.ResolveFindings(ctx, e.opts.Now(), previous, gone, "fixed in "+digest)
}

// runRematch matches a stored inventory with the current database.
func (e *Engine) runRematch(ctx context.Context, j store.Job) error {
	var p rematchPayload
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	inv, _, err := e.st.Inventory(ctx, p.Digest)
	if errors.Is(err, store.ErrNotFound) {
		return nil // removed since
	}
	if err != nil {
		return err
	}
	ch, dbDigest, err := e.match(ctx, p.Digest, inv, alert.ReasonNewAdvisory, nil, "withdrawn from the database")
	if err != nil {
		return err
	}
	if len(ch.New)+len(ch.Resolved) > 0 {
		_, _, meta := e.db.current()
		return e.st.RecordDBChange(ctx, e.opts.Now(), dbDigest, meta.BuiltAt, len(ch.New), len(ch.Resolved))
	}
	return nil
}

// match evaluates inv with the current database and policy and records
// its findings; alerts go to the outbox for new findings not in skip.
func (e *Engine) match(ctx context.Context, digest string, inv *inventory.Inventory, reason string, skip map[string]bool, resolution string) (store.Change, string, error) {
	m, dbDigest, _ := e.db.current()
	if m == nil {
		return store.Change{}, "", errors.New("no vulnerability database open")
	}
	res, err := evaluate.Evaluate(ctx, inv, evaluate.Options{Matcher: m, Policy: e.opts.Policy})
	if err != nil {
		return store.Change{}, "", err
	}
	found := findingsOf(res)
	if resolution == "" {
		resolution = "no longer found"
	}
	now := e.opts.Now()
	event := reason + " " + digest + " " + dbDigest
	ch, err := e.st.ApplyFindings(ctx, now, digest, dbDigest, found, resolution, func(ch store.Change) ([]store.Alert, error) {
		return e.alertsFor(ctx, digest, reason, event, ch, skip)
	})
	return ch, dbDigest, err
}

// findingsOf flattens an evaluation's findings, leaving out suppressed
// ones (ignore file, VEX). OS findings are keyed by the OS release
// rather than the image name.
func findingsOf(res *evaluate.Result) []store.Finding {
	var out []store.Finding
	osTarget := ""
	if o := res.Report.Artifact.OS; o != nil {
		osTarget = o.Family + " " + o.Name
	}
	for _, l := range evaluate.Findings(res.Report) {
		f := l.Finding
		if f.Suppressed != nil {
			continue
		}
		// The OS result's target names the image; a finding is the same
		// in every image of a tag, so it is keyed by the release.
		target := l.Target
		if l.Class == inventory.ClassOSPkgs && osTarget != "" {
			target = osTarget
		}
		sf := store.Finding{VulnID: f.ID, PkgName: f.PkgName, PkgVersion: f.InstalledVersion, Target: target,
			Severity: f.Severity, FixedVersion: f.FixedVersion, Status: string(f.Status), KEV: f.KEV != nil,
			Aliases: f.Aliases, Title: f.Title, URL: f.PrimaryURL}
		if f.EPSS != nil {
			sf.EPSS, sf.EPSSPercentile = f.EPSS.Score, f.EPSS.Percentile
		}
		out = append(out, sf)
	}
	return out
}

// alertsFor returns the outbox entries of a change: one per new finding
// (not in skip) per route whose filter takes it, for images some tag
// still names.
func (e *Engine) alertsFor(ctx context.Context, digest, reason, event string, ch store.Change, skip map[string]bool) ([]store.Alert, error) {
	if len(ch.New) == 0 || len(e.opts.Routes) == 0 {
		return nil, nil
	}
	img, err := e.st.Image(ctx, digest)
	if err != nil {
		return nil, err
	}
	if len(img.Tags) == 0 {
		// No tag names the image any more (a rebuilt tag's old digest):
		// its findings are kept up to date, but nobody runs it.
		return nil, nil
	}
	var out []store.Alert
	for _, f := range ch.New {
		if skip[f.Key()] {
			continue
		}
		a := e.alertOf(img, &f, reason)
		for _, r := range e.opts.Routes {
			if !r.Route.Filter.Match(a) {
				continue
			}
			a.IdempotencyKey = idempotencyKey(r.Name, digest, f.Key())
			out = append(out, store.Alert{Route: r.Name, Digest: digest, Finding: f.Key(), Event: event, Payload: jsonOf(a)})
		}
	}
	return out, nil
}

// alertOf describes a finding of img as an alert.
func (e *Engine) alertOf(img *store.Image, f *store.Finding, reason string) alert.Alert {
	repo, tags := img.Repository, []string{}
	for _, rt := range img.Tags {
		i := strings.LastIndex(rt, ":")
		if rt[:i] == img.Repository {
			tags = append(tags, rt[i+1:])
		}
	}
	if len(tags) == 0 && len(img.Tags) > 0 {
		i := strings.LastIndex(img.Tags[0], ":")
		repo, tags = img.Tags[0][:i], []string{img.Tags[0][i+1:]}
	}
	slices.Sort(tags)
	ref := repo
	if len(tags) > 0 {
		ref += ":" + tags[0]
	}
	return alert.Alert{
		Reason:           reason,
		Image:            ref + "@" + img.Digest,
		Registry:         img.Registry,
		Repository:       strings.TrimPrefix(repo, img.Registry+"/"),
		Digest:           img.Digest,
		Tags:             tags,
		ID:               f.VulnID,
		Aliases:          append([]string{}, f.Aliases...),
		Package:          f.PkgName,
		InstalledVersion: f.PkgVersion,
		FixedVersion:     f.FixedVersion,
		Severity:         f.Severity,
		Status:           vulndb.Status(f.Status),
		Title:            f.Title,
		URL:              f.URL,
		KEV:              f.KEV,
		EPSS:             f.EPSS,
		EPSSPercentile:   f.EPSSPercentile,
		FirstSeen:        f.FirstSeen,
	}
}

// idempotencyKey identifies one alert — a route, an image, a finding —
// across every delivery attempt, restart and server.
func idempotencyKey(route, digest, finding string) string {
	h := sha256.Sum256([]byte("vigil alert\x00" + route + "\x00" + digest + "\x00" + finding))
	return hex.EncodeToString(h[:16])
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// pull reads the image p names from its registry and catalogues it.
func (e *Engine) pull(ctx context.Context, p scanPayload) (*inventory.Inventory, error) {
	c := e.clients[p.Registry]
	if c == nil {
		return nil, fmt.Errorf("%w: registry %s is not configured", errPermanent, p.Registry)
	}
	ref := p.Repository + "@" + p.Digest
	opts := image.Options{Sources: []string{image.SourceRemote}, Platform: p.Platform, Registry: c.Access(), Logger: e.log}
	img, err := image.Open(ctx, ref, opts)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == 404 {
			return nil, fmt.Errorf("%w: %v", errPermanent, err)
		}
		return nil, err
	}
	defer img.Close()
	tags, _ := e.st.Image(ctx, p.Digest)
	meta := scan.ImageMeta{Name: ref, RepoDigests: []string{ref}, DigestsVerified: img.DigestsVerified}
	if tags != nil {
		meta.RepoTags = tags.Tags
	}
	// The store keeps the inventory: the per-image cache entry would
	// never be read back.
	inv, err := scan.Image(ctx, img, meta, scan.Options{Logger: e.log, Read: layerfs.Options{Cache: e.opts.Cache}, NoInventoryCache: true})
	if err != nil {
		return nil, err
	}
	if inv.Artifact.Platform == "" {
		inv.Artifact.Platform = img.Platform
	}
	return inv, nil
}
