package vulndb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"
)

// The store is a single bbolt file. bbolt was chosen because it is pure Go
// (no cgo, cross-compiles), memory-maps the file so Open costs a few
// syscalls and lookups read pages straight from the page cache, keeps keys
// sorted (prefix scans are cheap) and is one self-contained file that can be
// shipped as an OCI artifact and replaced with an atomic rename.
//
// Layout (schema version SchemaVersion):
//
//	meta      "metadata"         → JSON Metadata
//	affected  <ecosystem>        → bucket: <package> → blob([]Affected)
//	vulns     <id>               → blob(Vulnerability)
//	aliases   <alias>            → JSON []string: ids whose record names the alias
//	vulnpkgs  <id>               → JSON []string: "<ecosystem>\x00<package>" keys
//
// blob is JSON compressed with zstd (no dictionary). Per-package grouping
// lets zstd find the repetition between the records of one package, and a
// lookup decodes exactly one value.

// SchemaVersion is the version of the on-disk layout. A reader refuses a
// database of another version.
const SchemaVersion = 1

var (
	bucketMeta     = []byte("meta")
	bucketAffected = []byte("affected")
	bucketVulns    = []byte("vulns")
	bucketAliases  = []byte("aliases")
	bucketVulnPkgs = []byte("vulnpkgs")
	keyMetadata    = []byte("metadata")
)

// ErrSchema reports a database whose schema version this build of vigil
// cannot read.
var ErrSchema = errors.New("vulndb: unsupported schema version")

// Metadata describes a built database.
type Metadata struct {
	SchemaVersion int       `json:"schemaVersion"`
	BuiltAt       time.Time `json:"builtAt"`
	// NextUpdate is when a newer database is expected; clients skip
	// downloading before then.
	NextUpdate time.Time      `json:"nextUpdate"`
	Sources    []SourceReport `json:"sources,omitempty"`
}

// SourceReport is what one source contributed to a build.
type SourceReport struct {
	Name            string        `json:"name"`
	Base            string        `json:"base"`
	Affected        int           `json:"affected"`
	Vulnerabilities int           `json:"vulnerabilities"`
	Duration        time.Duration `json:"duration"`
}

// DB is an open, read-only database. It is safe for concurrent use.
type DB struct {
	bolt *bolt.DB
	dec  *zstd.Decoder
	meta Metadata
}

// Open opens the database at path read-only and checks its schema version.
func Open(path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("vulndb: open %s: %w", path, err)
	}
	b, err := bolt.Open(path, 0o444, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("vulndb: open %s: %w", path, err)
	}
	db := &DB{bolt: b}
	err = b.View(func(tx *bolt.Tx) error {
		mb := tx.Bucket(bucketMeta)
		if mb == nil {
			return errors.New("no meta bucket: not a vigil database")
		}
		raw := mb.Get(keyMetadata)
		if raw == nil {
			return errors.New("no metadata: not a vigil database")
		}
		if err := json.Unmarshal(raw, &db.meta); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
		if db.meta.SchemaVersion != SchemaVersion {
			return fmt.Errorf("%w %d (this vigil reads %d)", ErrSchema, db.meta.SchemaVersion, SchemaVersion)
		}
		return nil
	})
	if err == nil {
		db.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("vulndb: open %s: %w", path, err)
	}
	return db, nil
}

// Close releases the database file.
func (db *DB) Close() error {
	db.dec.Close()
	return db.bolt.Close()
}

// Metadata returns the database's build metadata.
func (db *DB) Metadata() Metadata { return db.meta }

// Affected returns every record for pkg in ecosystem, ordered by
// vulnerability id then source. Records of withdrawn advisories are not
// stored. Unknown ecosystems and packages yield no records and no error.
func (db *DB) Affected(ecosystem, pkg string) ([]Affected, error) {
	var out []Affected
	err := db.bolt.View(func(tx *bolt.Tx) error {
		raw := getAffected(tx, ecosystem, pkg)
		if raw == nil {
			return nil
		}
		return db.decode(raw, &out)
	})
	if err != nil {
		return nil, fmt.Errorf("vulndb: affected %s/%s: %w", ecosystem, pkg, err)
	}
	return out, nil
}

func getAffected(tx *bolt.Tx, ecosystem, pkg string) []byte {
	eb := tx.Bucket(bucketAffected).Bucket([]byte(ecosystem))
	if eb == nil {
		return nil
	}
	return eb.Get([]byte(pkg))
}

// Vulnerability returns the merged record for id.
func (db *DB) Vulnerability(id string) (*Vulnerability, bool, error) {
	var v *Vulnerability
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		v, err = db.vuln(tx, id)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("vulndb: vulnerability %s: %w", id, err)
	}
	return v, v != nil, nil
}

func (db *DB) vuln(tx *bolt.Tx, id string) (*Vulnerability, error) {
	raw := tx.Bucket(bucketVulns).Get([]byte(id))
	if raw == nil {
		return nil, nil
	}
	var v Vulnerability
	if err := db.decode(raw, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Shown is everything the database knows about one id and the records
// linked to it by aliases, upstream or related ids.
type Shown struct {
	// Vulnerabilities holds the record for the id asked for first (when
	// there is one), then every linked record, by id.
	Vulnerabilities []Vulnerability
	// Affected holds the package records of all those ids.
	Affected []Affected
}

// Show returns every record about id: its own, the records that name it as
// an alias (a CVE is found through GHSA, GO and UBUNTU records), the
// records its aliases name, and the affected entries of all of them.
// It returns false when nothing is known.
func (db *DB) Show(id string) (Shown, bool, error) {
	var s Shown
	err := db.bolt.View(func(tx *bolt.Tx) error {
		// Breadth-first over both link directions (records naming an id,
		// and the aliases a record names), two hops deep: GO-1 → GHSA-1 →
		// CVE-1 → every record naming CVE-1. Bounded so a distribution
		// advisory listing hundreds of CVEs cannot explode the answer.
		ids := []string{id}
		depth := map[string]int{id: 0}
		add := func(x string, d int) {
			if _, ok := depth[x]; !ok && len(ids) < maxShown {
				depth[x] = d
				ids = append(ids, x)
			}
		}
		for i := 0; i < len(ids); i++ {
			cur := ids[i]
			v, err := db.vuln(tx, cur)
			if err != nil {
				return err
			}
			if v != nil {
				s.Vulnerabilities = append(s.Vulnerabilities, *v)
			}
			if depth[cur] >= 2 {
				continue
			}
			var linked []string
			if raw := tx.Bucket(bucketAliases).Get([]byte(cur)); raw != nil {
				if err := json.Unmarshal(raw, &linked); err != nil {
					return fmt.Errorf("alias index %s: %w", cur, err)
				}
			}
			if v != nil {
				linked = append(linked, v.Aliases...)
			}
			for _, l := range linked {
				add(l, depth[cur]+1)
			}
		}
		for _, x := range ids {
			raw := tx.Bucket(bucketVulnPkgs).Get([]byte(x))
			if raw == nil {
				continue
			}
			var keys []string
			if err := json.Unmarshal(raw, &keys); err != nil {
				return fmt.Errorf("package index %s: %w", x, err)
			}
			for _, k := range keys {
				eco, pkg, _ := strings.Cut(k, "\x00")
				blob := getAffected(tx, eco, pkg)
				if blob == nil {
					continue
				}
				var recs []Affected
				if err := db.decode(blob, &recs); err != nil {
					return fmt.Errorf("affected %s/%s: %w", eco, pkg, err)
				}
				for _, a := range recs {
					if a.VulnID == x {
						s.Affected = append(s.Affected, a)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return Shown{}, false, fmt.Errorf("vulndb: show %s: %w", id, err)
	}
	first := 0
	if len(s.Vulnerabilities) > 0 && s.Vulnerabilities[0].ID == id {
		first = 1
	}
	slices.SortStableFunc(s.Vulnerabilities[first:], func(a, b Vulnerability) int { return strings.Compare(a.ID, b.ID) })
	return s, len(s.Vulnerabilities) > 0 || len(s.Affected) > 0, nil
}

// maxShown bounds the ids Show follows.
const maxShown = 256

// Ecosystems returns the ecosystems that have records, sorted.
func (db *DB) Ecosystems() ([]string, error) {
	var out []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAffected).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	return out, err
}

// HasEcosystem reports whether any record exists for the ecosystem.
func (db *DB) HasEcosystem(ecosystem string) (bool, error) {
	found := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketAffected).Bucket([]byte(ecosystem)) != nil
		return nil
	})
	return found, err
}

func (db *DB) decode(raw []byte, v any) error {
	plain, err := db.dec.DecodeAll(raw, nil)
	if err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(plain))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}
