// Package baseimage tells which image a container image was built from (its
// Dockerfile's last FROM) and which of its layers are that base image's,
// offline, from what the image itself says:
//
//   - the manifest annotations org.opencontainers.image.base.name and
//     org.opencontainers.image.base.digest (OCI image spec, annotations.md),
//     which buildah, podman, crane and Docker's official images write;
//   - the same keys as config labels, when the image's own build set them
//     (a LABEL history entry after the base's, or none that the base set);
//   - the config history: the entry buildah marks with a "FROM <base>"
//     comment starts the image's own build; else the base ends with the last
//     empty-layer CMD or ENTRYPOINT entry that a layer follows (base images
//     end with one, Dockerfiles rarely set one before their last RUN or
//     COPY); else where the builder changes to BuildKit's Dockerfile
//     frontend (comment buildkit.dockerfile.v0) after entries without it;
//   - a set of known base images (Known), matched by layer chain: the
//     longest known image whose layers are the image's bottom layers.
//
// Identify reads only the manifest and config; Mark applies the result to
// an inventory. docs/architecture.md ("Base images") states the limits.
package baseimage

import (
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigil-scanner/vigil/inventory"
)

// The OCI annotation keys naming an image's base.
const (
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

// buildKitComment is the history comment of BuildKit's Dockerfile frontend.
const buildKitComment = "buildkit.dockerfile.v0"

// Identify returns what m, cfg and the known base images say about the
// image's base, or nil when nothing does. known may be nil.
func Identify(m *v1.Manifest, cfg *v1.ConfigFile, known *Known) *inventory.Base {
	if cfg == nil {
		return nil
	}
	diffIDs := make([]string, len(cfg.RootFS.DiffIDs))
	for i, d := range cfg.RootFS.DiffIDs {
		diffIDs[i] = d.String()
	}
	b := &inventory.Base{}
	by := map[string]bool{}
	note := func(how string) {
		if !by[how] {
			by[how] = true
			b.IdentifiedBy = append(b.IdentifiedBy, how)
		}
	}

	if m != nil {
		if n := strings.TrimSpace(m.Annotations[AnnotationBaseName]); n != "" {
			b.Name = n
			note(inventory.BaseByAnnotation)
		}
		if d := strings.TrimSpace(m.Annotations[AnnotationBaseDigest]); d != "" {
			b.Digest = d
			note(inventory.BaseByAnnotation)
		}
	}

	h := readHistory(cfg.History, len(diffIDs))
	if b.Name == "" && b.Digest == "" {
		if n, d, ok := ownLabels(cfg, h); ok {
			b.Name, b.Digest = n, d
			note(inventory.BaseByLabel)
		}
	}

	if k, ok := known.match(diffIDs, b.Digest); ok {
		b.Layers = len(k.DiffIDs)
		if b.Name == "" {
			b.Name = k.Name
		}
		if b.Digest == "" && len(k.Digests) > 0 {
			b.Digest = k.Digests[0]
		}
		note(inventory.BaseByLayers)
	} else if h.boundary > 0 {
		b.Layers = h.boundary
		if b.Name == "" {
			b.Name = h.from
		}
		note(inventory.BaseByHistory)
	}
	if len(b.IdentifiedBy) == 0 {
		return nil
	}
	return b
}

// history is what the config history says about the base.
type history struct {
	// boundary is how many layers the base has (0: unknown); boundaryAt is
	// the index of the first history entry of the image's own build.
	boundary, boundaryAt int
	// from is the base reference a buildah "FROM" comment names.
	from string
	// labelSetAt is, for each label key a LABEL entry sets, the index of
	// the last such entry.
	labelSetAt map[string]int
}

// readHistory finds where the image's own build starts in hs. It gives up
// (boundary 0) when the entries that made layers are not one per layer.
func readHistory(hs []v1.History, layers int) history {
	h := history{labelSetAt: map[string]int{}}
	made := 0
	for _, e := range hs {
		if !e.EmptyLayer {
			made++
		}
	}
	for i, e := range hs {
		for _, k := range labelKeys(e.CreatedBy) {
			h.labelSetAt[k] = i
		}
	}
	if made != layers || layers == 0 {
		return h
	}
	// layersBefore[i] is how many layers the entries before i made.
	layersBefore := make([]int, len(hs)+1)
	for i, e := range hs {
		layersBefore[i+1] = layersBefore[i]
		if !e.EmptyLayer {
			layersBefore[i+1]++
		}
	}
	at := -1
	// buildah and podman build: "FROM <base>" on the first entry they add.
	for i := len(hs) - 1; i >= 0 && at < 0; i-- {
		if ref, ok := strings.CutPrefix(strings.TrimSpace(hs[i].Comment), "FROM "); ok {
			at, h.from = i, strings.TrimSpace(ref)
		}
	}
	// The base's closing CMD or ENTRYPOINT, with a layer after it.
	for i := len(hs) - 1; i >= 0 && at < 0; i-- {
		if hs[i].EmptyLayer && isCmd(hs[i].CreatedBy) && layersBefore[len(hs)] > layersBefore[i+1] {
			at = i + 1
		}
	}
	// The builder turns to BuildKit's Dockerfile frontend for good, and
	// makes a layer.
	if at < 0 {
		for i := len(hs) - 1; i > 0; i-- {
			if hs[i].Comment != buildKitComment {
				break
			}
			if hs[i-1].Comment != buildKitComment {
				if layersBefore[len(hs)] > layersBefore[i] {
					at = i
				}
				break
			}
		}
	}
	if at < 0 || layersBefore[at] == 0 {
		return h
	}
	h.boundaryAt, h.boundary = at, layersBefore[at]
	return h
}

// isCmd reports whether a history command sets CMD or ENTRYPOINT, as
// BuildKit ("CMD [\"bash\"]") or the classic builder
// ("/bin/sh -c #(nop)  CMD [\"bash\"]") writes it.
func isCmd(createdBy string) bool {
	s := dockerInstruction(createdBy)
	return strings.HasPrefix(s, "CMD ") || strings.HasPrefix(s, "ENTRYPOINT ") || s == "CMD" || s == "ENTRYPOINT"
}

// dockerInstruction strips the classic builder's "/bin/sh -c #(nop) "
// prefix from a history command.
func dockerInstruction(createdBy string) string {
	s := strings.TrimSpace(createdBy)
	if rest, ok := strings.CutPrefix(s, "/bin/sh -c #(nop)"); ok {
		s = strings.TrimSpace(rest)
	}
	return s
}

// labelKeys returns the keys a LABEL history command sets
// ("LABEL a=1 \"b c\"=2" → a, b c).
func labelKeys(createdBy string) []string {
	s, ok := strings.CutPrefix(dockerInstruction(createdBy), "LABEL ")
	if !ok {
		return nil
	}
	var keys []string
	for _, f := range splitQuoted(s) {
		k, _, ok := strings.Cut(f, "=")
		if ok && k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// splitQuoted splits s at spaces outside double quotes and removes the
// quotes.
func splitQuoted(s string) []string {
	var out []string
	var b strings.Builder
	quoted, escaped := false, false
	for _, r := range s {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ' ' && !quoted:
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// ownLabels returns the base named by the config's labels, unless the
// labels were inherited: a LABEL entry of the base's part of the history
// set them, and none of the image's own build did.
func ownLabels(cfg *v1.ConfigFile, h history) (name, digest string, ok bool) {
	labels := cfg.Config.Labels
	name = strings.TrimSpace(labels[AnnotationBaseName])
	digest = strings.TrimSpace(labels[AnnotationBaseDigest])
	if name == "" && digest == "" {
		return "", "", false
	}
	for _, k := range []string{AnnotationBaseName, AnnotationBaseDigest} {
		if at, set := h.labelSetAt[k]; set && h.boundary > 0 && at < h.boundaryAt {
			return "", "", false
		}
	}
	return name, digest, true
}

// Mark records b as inv's base and sets LayerRef.Base on the packages of
// its layers. b nil, or without layers, marks no package.
func Mark(inv *inventory.Inventory, b *inventory.Base) {
	inv.Artifact.Base = b
	base := map[string]bool{}
	for _, d := range Layers(inv) {
		base[d] = true
	}
	for i := range inv.Results {
		for j := range inv.Results[i].Packages {
			p := &inv.Results[i].Packages[j]
			p.Layer.Base = p.Layer.DiffID != "" && base[p.Layer.DiffID]
		}
	}
}

// Layers returns the diff IDs of the base's layers in inv, base first, or
// nil when no base layers are known.
func Layers(inv *inventory.Inventory) []string {
	b := inv.Artifact.Base
	if b == nil || b.Layers == 0 || b.Layers > len(inv.Artifact.Layers) {
		return nil
	}
	out := make([]string, 0, b.Layers)
	for _, l := range inv.Artifact.Layers[:b.Layers] {
		out = append(out, l.DiffID)
	}
	return slices.Clip(out)
}
