package baseimage

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/report"
)

// KnownImage is a base image known by its layers.
type KnownImage struct {
	// Name is the image's reference ("debian:12.8").
	Name string
	// Digests are the manifest digests the image is known by: the tag's
	// (an index, for a multi-platform image) and the platform image's.
	Digests []string
	// DiffIDs are its layers' diff IDs, base first.
	DiffIDs []string
	// Inventory is the image's inventory, when known (a saved report
	// listing packages, a scan).
	Inventory *inventory.Inventory
}

// Known is a set of base images matched by layer chain. A nil *Known is an
// empty set.
type Known struct {
	images  []KnownImage
	byChain map[string][]int // chain ID of an image's top layer → images
}

// Add adds images to k. Images without layers are left out.
func (k *Known) Add(images ...KnownImage) {
	if k.byChain == nil {
		k.byChain = map[string][]int{}
	}
	for _, img := range images {
		if len(img.DiffIDs) == 0 {
			continue
		}
		chain := ChainIDs(img.DiffIDs)
		top := chain[len(chain)-1]
		k.byChain[top] = append(k.byChain[top], len(k.images))
		k.images = append(k.images, img)
	}
}

// Len is the number of images in k.
func (k *Known) Len() int {
	if k == nil {
		return 0
	}
	return len(k.images)
}

// Images returns k's images in the order they were added.
func (k *Known) Images() []KnownImage {
	if k == nil {
		return nil
	}
	return k.images
}

// match returns the known image with the most layers whose layers are the
// bottom layers of diffIDs (all of them, for the image itself). Among
// images with the same layers (several tags of one image), the one known
// by digest wins, then the most specific name (MoreSpecific).
func (k *Known) match(diffIDs []string, digest string) (KnownImage, bool) {
	if k.Len() == 0 || len(diffIDs) == 0 {
		return KnownImage{}, false
	}
	chain := ChainIDs(diffIDs)
	for i := len(chain) - 1; i >= 0; i-- {
		idx := k.byChain[chain[i]]
		if len(idx) == 0 {
			continue
		}
		best := k.images[idx[0]]
		for _, j := range idx[1:] {
			c := k.images[j]
			switch bd, cd := hasDigest(best, digest), hasDigest(c, digest); {
			case cd && !bd:
				best = c
			case cd == bd && MoreSpecific(c.Name, best.Name):
				best = c
			}
		}
		return best, true
	}
	return KnownImage{}, false
}

func hasDigest(img KnownImage, digest string) bool {
	if digest == "" {
		return false
	}
	for _, d := range img.Digests {
		if d == digest {
			return true
		}
	}
	return false
}

// ChainIDs returns the chain ID of each prefix of diffIDs (OCI image spec,
// config.md "Layer ChainID"): the first layer's diff ID, then
// sha256(previous chain ID + " " + diff ID).
func ChainIDs(diffIDs []string) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		sum := sha256.Sum256([]byte(out[i-1] + " " + d))
		out[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

// MoreSpecific reports whether reference a names an image more precisely
// than b does, for choosing among tags of one image: more numeric version
// parts in the tag first ("12.8" over "12" over "bookworm"), then the
// longer tag, then the lesser in byte order.
func MoreSpecific(a, b string) bool {
	ta, tb := tagOf(a), tagOf(b)
	return cmp.Or(
		cmp.Compare(versionParts(ta), versionParts(tb)),
		cmp.Compare(len(ta), len(tb)),
		-strings.Compare(a, b),
	) > 0
}

// tagOf returns the tag of a reference ("debian:12.8" → "12.8"), or "".
func tagOf(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[i+1:]
	}
	return ""
}

// versionParts counts the dot-separated numbers leading a tag ("12.8-slim"
// → 2).
func versionParts(tag string) int {
	n := 0
	for part := range strings.SplitSeq(tag, ".") {
		digits := strings.IndexFunc(part, func(r rune) bool { return !unicode.IsDigit(r) })
		switch {
		case digits == -1 && part != "":
			n++
			continue
		case digits > 0:
			n++
		}
		break
	}
	return n
}

// LoadDir reads the known base images saved in dir: every *.json file in it
// is a vigil JSON report of an image (`vigil image --format json
// --list-all-pkgs -o debian-12.8.json debian:12.8`), named by its first
// repository tag, else by the name it was scanned under. Reports that list
// packages keep their inventory in KnownImage.Inventory.
func LoadDir(dir string) ([]KnownImage, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("base images: %w", err)
	}
	var out []KnownImage
	for _, n := range names {
		img, err := loadReport(n)
		if err != nil {
			return nil, fmt.Errorf("base images: %s: %w", n, err)
		}
		out = append(out, img)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("base images: %s holds no vigil JSON report (*.json)", dir)
	}
	return out, nil
}

func loadReport(path string) (KnownImage, error) {
	f, err := os.Open(path)
	if err != nil {
		return KnownImage{}, err
	}
	defer f.Close()
	r, err := report.ReadJSON(f)
	if err != nil {
		return KnownImage{}, err
	}
	a := r.Artifact
	if a.Type != inventory.TypeContainerImage || len(a.Layers) == 0 {
		return KnownImage{}, errors.New("not the report of an image with layers")
	}
	img := KnownImage{Name: a.Name}
	if len(a.RepoTags) > 0 {
		img.Name = a.RepoTags[0]
	}
	for _, d := range a.RepoDigests {
		if _, digest, ok := strings.Cut(d, "@"); ok {
			img.Digests = append(img.Digests, digest)
		}
	}
	for _, l := range a.Layers {
		if l.DiffID == "" {
			return KnownImage{}, errors.New("a layer has no diffID")
		}
		img.DiffIDs = append(img.DiffIDs, l.DiffID)
	}
	if r.HasPackages() {
		img.Inventory = r.Inventory()
	}
	return img, nil
}
