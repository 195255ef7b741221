package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/report"
)

// The state directory holds:
//
//	state.json                   the index and what each image was last found to have (stateFile)
//	inventories/sha256-<hex>.json one vigil JSON report (all packages, no findings) per image digest
//
// Every file is written to a temporary file and renamed into place.
// state.json is written last in a cycle, so a cycle that fails part way
// leaves the previous state whole; inventories are named by content and
// are never wrong, only possibly unused.
const (
	stateFile    = "state.json"
	inventoryDir = "inventories"
	// stateVersion changes when state.json changes shape; a state of
	// another version is discarded (every image is then new).
	stateVersion = 1
	// maxStateSize bounds the state.json read.
	maxStateSize = 256 << 20
)

// state is what one cycle leaves for the next.
type state struct {
	Version int `json:"version"`
	// DBBuiltAt is the BuiltAt of the database the findings were matched
	// with.
	DBBuiltAt time.Time `json:"dbBuiltAt"`
	// Filters are the policy filters the findings passed (filters); when
	// they change, every image is matched again, as for a new database.
	Filters string `json:"filters"`
	// Tags maps "repository:tag" (repository in full: host/name) to the
	// digest it resolved to.
	Tags map[string]string `json:"tags"`
	// Seen maps an image digest to its findings at the last cycle, after
	// the policy filters. A digest is present once its findings were
	// reported; one absent is new.
	Seen map[string][]findingKey `json:"seen"`
}

// findingKey identifies a finding within one image.
type findingKey struct {
	Package string `json:"package"`
	Version string `json:"version"`
	ID      string `json:"id"`
}

// loadState reads dir's state; a missing state is an empty one.
func loadState(dir string) (*state, error) {
	empty := &state{Version: stateVersion, Tags: map[string]string{}, Seen: map[string][]findingKey{}}
	path := filepath.Join(dir, stateFile)
	data, err := readBounded(path, maxStateSize)
	if errors.Is(err, fs.ErrNotExist) {
		return empty, nil
	}
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("watch state %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return empty, nil
	}
	if st.Tags == nil {
		st.Tags = map[string]string{}
	}
	if st.Seen == nil {
		st.Seen = map[string][]findingKey{}
	}
	return &st, nil
}

// save writes st to dir atomically.
func (st *state) save(dir string) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, stateFile), data)
}

// inventoryPath is where the inventory of the image digest is kept. The
// digest is checked first: it comes from a registry and names a file.
func inventoryPath(dir, digest string) (string, error) {
	h, err := v1.NewHash(digest)
	if err != nil {
		return "", fmt.Errorf("digest %q: %w", digest, err)
	}
	return filepath.Join(dir, inventoryDir, h.Algorithm+"-"+h.Hex+".json"), nil
}

func hasInventory(dir, digest string) bool {
	p, err := inventoryPath(dir, digest)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

// storeInventory writes inv as a vigil JSON report with every package, the
// form `vigil sbom` reads back.
func storeInventory(dir, digest string, inv *inventory.Inventory, now time.Time) error {
	p, err := inventoryPath(dir, digest)
	if err != nil {
		return err
	}
	rep := report.FromInventory(inv)
	rep.CreatedAt = now.UTC().Truncate(time.Second)
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, rep, report.Options{ListAllPkgs: true}); err != nil {
		return err
	}
	return writeAtomic(p, buf.Bytes())
}

func loadInventory(dir, digest string) (*inventory.Inventory, error) {
	p, err := inventoryPath(dir, digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := report.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return rep.Inventory(), nil
}

// pruneInventories removes the inventories of digests not in keep.
func pruneInventories(dir string, keep map[string]bool) error {
	entries, err := os.ReadDir(filepath.Join(dir, inventoryDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for d := range keep {
		if p, err := inventoryPath(dir, d); err == nil {
			want[filepath.Base(p)] = true
		}
	}
	var errs []error
	for _, e := range entries {
		if !want[e.Name()] && strings.HasSuffix(e.Name(), ".json") {
			if err := os.Remove(filepath.Join(dir, inventoryDir, e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// writeAtomic writes data to a temporary file next to path and renames it
// into place, so readers see the old file or the new one, never a part.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}
