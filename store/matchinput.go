package store

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scanner/vigil/inventory"
)

// The match input of an image is what matching its inventory again needs,
// kept beside the full inventory (the images.match_input column):
//
//   - the inventory without the files each package owns (InstalledFiles,
//     most of a Debian or RHEL inventory, which matching never reads), so
//     that re-matching every stored image after a database change does not
//     decode them;
//   - the symbol tables of Go executables (inventory.Package.Symbols),
//     which the inventory's JSON form leaves out and without which a
//     re-match could not mark findings unreachable as the first match did.
//
// It is gob-encoded (several times faster to decode than JSON) and
// zstd-compressed; each distinct symbol table is stored once, the packages
// of one executable sharing it. An image stored before match inputs
// existed has none: its JSON inventory is read instead (without symbols).

// matchInputFormat is the version of the encoding below; an input of
// another version is ignored and the JSON inventory read instead.
const matchInputFormat = 1

type matchInput struct {
	Format    int
	Inventory inventory.Inventory
	// SymbolSets are the distinct symbol tables, each sorted; Symbols
	// says which package has which.
	SymbolSets [][]string
	Symbols    []symbolRef
}

type symbolRef struct{ Result, Package, Set int }

// encodeMatchInput returns the compressed match input of inv.
func encodeMatchInput(inv *inventory.Inventory) ([]byte, error) {
	in := matchInput{Format: matchInputFormat, Inventory: *inv}
	in.Inventory.Results = slices.Clone(inv.Results)
	sets := map[string]int{}
	for i := range in.Inventory.Results {
		r := &in.Inventory.Results[i]
		r.Packages = slices.Clone(r.Packages)
		for j := range r.Packages {
			p := &r.Packages[j]
			p.InstalledFiles = nil
			if p.Symbols == nil {
				continue
			}
			list := make([]string, 0, len(p.Symbols))
			for s, ok := range p.Symbols {
				if ok {
					list = append(list, s)
				}
			}
			slices.Sort(list)
			key := strings.Join(list, "\n")
			n, ok := sets[key]
			if !ok {
				n = len(in.SymbolSets)
				sets[key] = n
				in.SymbolSets = append(in.SymbolSets, list)
			}
			in.Symbols = append(in.Symbols, symbolRef{Result: i, Package: j, Set: n})
			p.Symbols = nil
		}
	}
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	if err := gob.NewEncoder(zw).Encode(&in); err != nil {
		zw.Close()
		return nil, fmt.Errorf("store: encode match input: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// errMatchInputFormat is a match input of another format version.
var errMatchInputFormat = errors.New("match input of another format")

func decodeMatchInput(blob []byte) (*inventory.Inventory, error) {
	zr, err := zstd.NewReader(bytes.NewReader(blob), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxInventory))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var in matchInput
	if err := gob.NewDecoder(io.LimitReader(zr, maxInventory)).Decode(&in); err != nil {
		return nil, fmt.Errorf("decode match input: %w", err)
	}
	if in.Format != matchInputFormat {
		return nil, errMatchInputFormat
	}
	sets := make([]map[string]bool, len(in.SymbolSets))
	for i, list := range in.SymbolSets {
		sets[i] = make(map[string]bool, len(list))
		for _, s := range list {
			sets[i][s] = true
		}
	}
	res := in.Inventory.Results
	for _, ref := range in.Symbols {
		if ref.Result < 0 || ref.Result >= len(res) || ref.Package < 0 || ref.Package >= len(res[ref.Result].Packages) || ref.Set < 0 || ref.Set >= len(sets) {
			return nil, errors.New("decode match input: symbol table of a package out of range")
		}
		// Shared, as the catalogers share one table among the packages of
		// an executable; matching only reads it.
		res[ref.Result].Packages[ref.Package].Symbols = sets[ref.Set]
	}
	return &in.Inventory, nil
}

// StoredInput is a stored image's match input, not yet decoded, so that
// callers can decode many in parallel.
type StoredInput struct {
	Digest string
	// InventoryKey names the vigil build and cataloger set that made the
	// inventory.
	InventoryKey string
	// FindingsHash is the hash of the image's open findings as last
	// applied (FindingsHash of them), empty when unknown.
	FindingsHash string
	blob         []byte
	legacy       bool // blob is the JSON inventory
}

// Decode returns the inventory to match: without the files packages own,
// with the symbol tables of Go executables (when the image was stored by a
// vigil that kept them).
func (in *StoredInput) Decode() (*inventory.Inventory, error) {
	if !in.legacy {
		// A match input of another format is written by another vigil
		// build, whose inventories are catalogued again at start.
		inv, err := decodeMatchInput(in.blob)
		if err != nil {
			return nil, fmt.Errorf("store: image %s: %w", in.Digest, err)
		}
		return inv, nil
	}
	inv, err := decompress(in.blob)
	if err != nil {
		return nil, fmt.Errorf("store: image %s: %w", in.Digest, err)
	}
	return inv, nil
}

// MatchInputs returns the match inputs of the digests that have an
// inventory, in the order given; digests without one are left out.
func (s *Store) MatchInputs(ctx context.Context, digests []string) ([]StoredInput, error) {
	byDigest := make(map[string]StoredInput, len(digests))
	for start := 0; start < len(digests); start += 500 {
		chunk := digests[start:min(start+500, len(digests))]
		args := make([]any, len(chunk))
		for i, d := range chunk {
			args[i] = d
		}
		// The JSON inventory is read only where there is no match input.
		rows, err := s.query(ctx, s.db, `SELECT digest, inventory_key, findings_hash, match_input,
				CASE WHEN match_input IS NULL THEN inventory END
			FROM images WHERE inventory IS NOT NULL AND digest IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: match inputs: %w", err)
		}
		for rows.Next() {
			var in StoredInput
			var input, inv []byte
			if err := rows.Scan(&in.Digest, &in.InventoryKey, &in.FindingsHash, &input, &inv); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: match inputs: %w", err)
			}
			in.blob = input
			if input == nil {
				in.blob, in.legacy = inv, true
			}
			byDigest[in.Digest] = in
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: match inputs: %w", err)
		}
	}
	out := make([]StoredInput, 0, len(byDigest))
	for _, d := range digests {
		if in, ok := byDigest[d]; ok {
			out = append(out, in)
			delete(byDigest, d)
		}
	}
	return out, nil
}

// MatchInput returns the decoded match input of one image (see
// StoredInput.Decode) and its inventory key; ErrNotFound when the image
// has no inventory.
func (s *Store) MatchInput(ctx context.Context, digest string) (*inventory.Inventory, string, error) {
	ins, err := s.MatchInputs(ctx, []string{digest})
	if err != nil {
		return nil, "", err
	}
	if len(ins) == 0 {
		return nil, "", fmt.Errorf("image %s: %w", digest, ErrNotFound)
	}
	inv, err := ins[0].Decode()
	return inv, ins[0].InventoryKey, err
}
