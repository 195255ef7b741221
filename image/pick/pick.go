// Package pick chooses one image from a source that holds several: a
// multi-platform index, an OCI layout with several tags, or a docker-save
// archive of several images.
package pick

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Annotations naming the image a descriptor in an OCI layout's index.json
// points at.
const (
	AnnotationRefName       = "org.opencontainers.image.ref.name" // often just the tag
	AnnotationContainerdRef = "io.containerd.image.name"          // full reference
)

// Want says which image to take.
type Want struct {
	// Ref is the reference the user gave ("alpine:3.10", "3.10",
	// "repo@sha256:…"); empty means any.
	Ref string
	// Platform is matched against each candidate's platform; fields left
	// empty match anything.
	Platform v1.Platform
}

// DefaultPlatform returns the platform images are chosen for when none is
// given: linux (or windows on Windows) on the host's architecture.
func DefaultPlatform() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOOS == "windows" {
		p.OS = "windows"
	}
	return p
}

// ParsePlatform parses "os/arch[/variant]"; an empty string gives
// DefaultPlatform.
func ParsePlatform(s string) (v1.Platform, error) {
	if s == "" {
		return DefaultPlatform(), nil
	}
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return v1.Platform{}, fmt.Errorf("platform %q: %w", s, err)
	}
	if p.OS == "" || p.Architecture == "" {
		return v1.Platform{}, fmt.Errorf("platform %q: want os/arch[/variant]", s)
	}
	return *p, nil
}

// Candidate is an image a source holds.
type Candidate struct {
	Refs     []string // names it is known by, if any
	Digest   v1.Hash  // manifest digest; for docker-save archives the image ID (config digest)
	Platform *v1.Platform
}

func (c Candidate) String() string {
	var b strings.Builder
	if len(c.Refs) > 0 {
		b.WriteString(strings.Join(c.Refs, ", "))
	} else if c.Digest.Hex != "" {
		b.WriteString(c.Digest.String())
	} else {
		b.WriteString("(untagged)")
	}
	if c.Platform != nil {
		b.WriteString(" [" + c.Platform.String() + "]")
	}
	return b.String()
}

// MatchesRef reports whether the candidate is the one ref names. A bare
// tag ("3.10") matches a candidate named with that tag in any repository;
// "repo@sha256:…" and a bare "sha256:…" match the manifest digest.
func (c Candidate) MatchesRef(ref string) bool {
	if ref == "" {
		return true
	}
	if h, err := v1.NewHash(ref); err == nil {
		return c.Digest == h
	}
	if r, err := name.ParseReference(ref); err == nil {
		if d, ok := r.(name.Digest); ok {
			return c.Digest.String() == d.DigestStr()
		}
	}
	want, wantErr := name.NewTag(ref)
	for _, have := range c.Refs {
		if have == ref {
			return true
		}
		if h, err := name.NewTag(have); err == nil && wantErr == nil && h.Name() == want.Name() {
			return true
		}
		// A layout's ref.name annotation is often only the tag.
		if !strings.ContainsAny(have, "/:") && strings.HasSuffix(ref, ":"+have) {
			return true
		}
		if !strings.ContainsAny(ref, "/:@") && strings.HasSuffix(have, ":"+ref) {
			return true
		}
	}
	return false
}

// ErrNoMatch is wrapped by the errors of Choose when no candidate fits.
var ErrNoMatch = errors.New("no matching image")

// Choose returns the index of the one candidate that w selects: Ref narrows
// first, then Platform. A lone candidate left by Ref is taken whatever its
// platform; candidates of unknown platform never match one. The error lists the candidates when none or more than
// one remain.
func Choose(cands []Candidate, w Want) (int, error) {
	if len(cands) == 0 {
		return -1, fmt.Errorf("%w: source holds no images", ErrNoMatch)
	}
	var left []int
	for i, c := range cands {
		if c.MatchesRef(w.Ref) {
			left = append(left, i)
		}
	}
	if len(left) == 0 {
		return -1, fmt.Errorf("%w for %q; found: %s", ErrNoMatch, w.Ref, list(cands, nil))
	}
	if len(left) == 1 {
		return left[0], nil
	}
	byPlatform := slices.DeleteFunc(slices.Clone(left), func(i int) bool {
		p := cands[i].Platform
		return p == nil || !p.Satisfies(w.Platform)
	})
	switch len(byPlatform) {
	case 1:
		return byPlatform[0], nil
	case 0:
		return -1, fmt.Errorf("%w for platform %s; found: %s", ErrNoMatch, w.Platform, list(cands, left))
	}
	return -1, fmt.Errorf("several images match %s; choose one by reference: %s", describe(w), list(cands, byPlatform))
}

func describe(w Want) string {
	if w.Ref == "" {
		return "platform " + w.Platform.String()
	}
	return fmt.Sprintf("%q on platform %s", w.Ref, w.Platform)
}

func list(cands []Candidate, only []int) string {
	var s []string
	for i, c := range cands {
		if only == nil || slices.Contains(only, i) {
			s = append(s, c.String())
		}
	}
	return strings.Join(s, "; ")
}

// FromIndex returns the image in idx that w selects, descending into nested
// indexes. Attestation manifests (platform unknown/unknown) are skipped.
func FromIndex(idx v1.ImageIndex, w Want) (v1.Image, v1.Descriptor, error) {
	var found []child
	if err := flatten(idx, nil, &found, 0); err != nil {
		return nil, v1.Descriptor{}, err
	}
	cands := make([]Candidate, len(found))
	for i, c := range found {
		cands[i] = Candidate{Refs: refs(c.desc.Annotations), Digest: c.desc.Digest, Platform: c.desc.Platform}
	}
	i, err := Choose(cands, w)
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	img, err := found[i].parent.Image(found[i].desc.Digest)
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	return img, found[i].desc, nil
}

// child is an image descriptor and the index that lists it.
type child struct {
	desc   v1.Descriptor
	parent v1.ImageIndex
}

// flatten appends the image descriptors reachable from idx. Descriptors of
// nested indexes pass their names on to their children.
func flatten(idx v1.ImageIndex, inherited map[string]string, out *[]child, depth int) error {
	if depth > 4 {
		return errors.New("image indexes nested too deep")
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range m.Manifests {
		if len(d.Annotations) == 0 && inherited != nil {
			d.Annotations = inherited
		}
		switch {
		case d.MediaType.IsIndex():
			sub, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return err
			}
			if err := flatten(sub, d.Annotations, out, depth+1); err != nil {
				return err
			}
		case d.MediaType.IsImage():
			if d.Platform != nil && d.Platform.OS == "unknown" {
				continue // an attestation, not an image
			}
			if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
				continue
			}
			*out = append(*out, child{d, idx})
		}
	}
	return nil
}

// Tags returns the "repo:tag" names the annotations of d give it.
func Tags(d v1.Descriptor) []string {
	var tags []string
	for _, r := range refs(d.Annotations) {
		if i := strings.LastIndex(r, ":"); i > strings.LastIndex(r, "/") && !strings.Contains(r, "@") {
			tags = append(tags, r)
		}
	}
	return tags
}

func refs(a map[string]string) []string {
	var r []string
	if s := a[AnnotationContainerdRef]; s != "" {
		r = append(r, s)
	}
	if s := a[AnnotationRefName]; s != "" && !slices.Contains(r, s) && !slices.ContainsFunc(r, func(have string) bool { return strings.HasSuffix(have, ":"+s) }) {
		r = append(r, s)
	}
	return r
}
