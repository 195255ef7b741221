package scan

import (
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scanner/vigil/distro"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/layerfs"
)

// The inventory cache keeps what the catalogers found in an image, keyed by
// the image's config digest (which names every layer's content through its
// diff IDs), its layers' digests (which name their stored bytes) and the
// layer cache key (which names the catalogers and vigil's build). A warm
// scan of an image seen before then reads neither layers nor layer
// records. Entries are only written after a full read, whose layers were
// each checked against their digests and diff IDs.

// invCacheFormat is the version of the entry encoding below.
const invCacheFormat = 3

// invEntry is what is stored, gob-encoded (a Debian image's file lists
// decode five times faster than as JSON): the inventory's OS and results,
// and apart from them the symbol tables of packages that have one, which
// the packages of one binary share.
type invEntry struct {
	Format  int
	OS      *inventory.OS
	Results []inventory.Result
	// Symbols[i][j] are the sorted symbols of Results[i].Packages[j].
	Symbols map[int]map[int][]string
}

func invCacheKey(layerKey, imageID string, layers []inventory.Layer) string {
	h := sha256.New()
	fmt.Fprintf(h, "vigil inventory\x00%d\x00%s\x00%s", invCacheFormat, layerKey, imageID)
	for _, l := range layers {
		fmt.Fprintf(h, "\x00%s", l.Digest)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// loadInventory returns the cached OS and results of an image, with the OS
// result targets named after name and end of support judged at now; false
// when there is no usable entry.
func loadInventory(c layerfs.Cache, key, name string, now time.Time) (*inventory.OS, []inventory.Result, bool) {
	rc, err := c.Get(key)
	if err != nil {
		return nil, nil, false
	}
	defer rc.Close()
	zr, err := zstd.NewReader(rc, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, nil, false
	}
	defer zr.Close()
	var e invEntry
	if err := gob.NewDecoder(io.LimitReader(zr, 1<<30)).Decode(&e); err != nil || e.Format != invCacheFormat {
		return nil, nil, false
	}
	for i, pkgs := range e.Symbols {
		for j, syms := range pkgs {
			if i < 0 || i >= len(e.Results) || j < 0 || j >= len(e.Results[i].Packages) {
				return nil, nil, false
			}
			set := make(map[string]bool, len(syms))
			for _, s := range syms {
				set[s] = true
			}
			e.Results[i].Packages[j].Symbols = set
		}
	}
	if e.OS != nil {
		if d, ok := distro.EOSLDate(e.OS.Family, e.OS.Name); ok {
			if t, err := time.Parse(time.DateOnly, d); err == nil {
				e.OS.EOSL, e.OS.EOSLDate = now.After(t), d
			}
		}
		for i := range e.Results {
			if e.Results[i].Class == inventory.ClassOSPkgs {
				e.Results[i].Target = fmt.Sprintf("%s (%s %s)", name, e.OS.Family, e.OS.Name)
			}
		}
	}
	return e.OS, e.Results, true
}

// storeInventory writes an entry; a failure only costs the next scan time.
func storeInventory(c layerfs.Cache, key string, os *inventory.OS, results []inventory.Result) error {
	e := invEntry{Format: invCacheFormat, OS: os, Results: make([]inventory.Result, len(results))}
	for i := range results {
		e.Results[i] = results[i]
		e.Results[i].Packages = slices.Clone(results[i].Packages)
		for j := range results[i].Packages {
			syms := results[i].Packages[j].Symbols
			if syms == nil {
				continue
			}
			e.Results[i].Packages[j].Symbols = nil
			if e.Symbols == nil {
				e.Symbols = map[int]map[int][]string{}
			}
			if e.Symbols[i] == nil {
				e.Symbols[i] = map[int][]string{}
			}
			list := make([]string, 0, len(syms))
			for s, ok := range syms {
				if ok {
					list = append(list, s)
				}
			}
			slices.Sort(list)
			e.Symbols[i][j] = list
		}
	}
	return c.Put(key, func(w io.Writer) error {
		zw, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return err
		}
		if err := gob.NewEncoder(zw).Encode(&e); err != nil {
			zw.Close()
			return err
		}
		return zw.Close()
	})
}
