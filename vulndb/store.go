package vulndb

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The store is a set of bbolt files, the parts (see part.go), listed by an
// index (index.go). bbolt was chosen because it is pure Go (no cgo,
// cross-compiles), memory-maps the file so opening costs a few syscalls and
// lookups read pages straight from the page cache, keeps keys sorted, and
// each file is self-contained: a part can be shipped as one blob of an OCI
// artifact and put in place with an atomic rename.
//
// Values are plain JSON, one per package (all its records) or per id, so
// that a lookup decodes exactly one value. They are not compressed one by
// one: the published blob of a part is compressed whole, which finds the
// repetition across records (field names, URLs, texts) and is about three
// times smaller on the wire than values compressed separately.

// SchemaVersion is the version of the on-disk layout. A reader refuses a
// database of another version. Version 1 was a single bbolt file.
const SchemaVersion = 2

// ErrSchema reports a database whose schema version this build of vigil
// cannot read.
var ErrSchema = errors.New("vulndb: unsupported schema version")

// ErrMissingPart reports a lookup that needs a part of the database that
// is known from the published manifest but was not downloaded.
var ErrMissingPart = errors.New("vulndb: database part not downloaded")

// Metadata describes a database version.
type Metadata struct {
	SchemaVersion int       `json:"schemaVersion"`
	BuiltAt       time.Time `json:"builtAt"`
	// NextUpdate is when a newer database is expected; clients skip
	// downloading before then.
	NextUpdate time.Time      `json:"nextUpdate"`
	Sources    []SourceReport `json:"sources,omitempty"`
	// Provenance says where this copy came from.
	Provenance *Provenance `json:"provenance,omitempty"`
}

// SourceReport is what one source contributed to a build.
type SourceReport struct {
	Name string `json:"name"`
	// Base is where the source was read from: its upstream, or the mirror
	// given for it.
	Base            string        `json:"base"`
	Affected        int           `json:"affected"`
	Vulnerabilities int           `json:"vulnerabilities"`
	Duration        time.Duration `json:"duration"`
}

// DB is an open, read-only database. It is safe for concurrent use. Part
// files are opened on first use.
type DB struct {
	dir   string
	index *Index

	ecosystems map[string]*group // KindEcosystem groups by ecosystem
	epss, kev  *group
	extra      *group
	all        []*group // every group, in index order

	mu   sync.Mutex
	used []*group // ecosystem groups Affected was asked about, in order
}

// group is the shards of one kind (and ecosystem) of part.
type group struct {
	shards []*partRef
}

func (g *group) shard(key string) *partRef { return g.shards[shardOf(key, len(g.shards))] }

// partRef is a part of the index, opened on first use.
type partRef struct {
	dir   string
	entry PartEntry
	once  sync.Once
	p     *part
	err   error
}

func (r *partRef) open() (*part, error) {
	if !r.entry.Local {
		return nil, fmt.Errorf("%w: %s (run `vigil db update`, or scan without --offline/--skip-db-update)", ErrMissingPart, r.entry.PartKey)
	}
	r.once.Do(func() {
		key := r.entry.PartKey
		r.p, r.err = openPart(PartPath(r.dir, r.entry.Content), &key)
	})
	return r.p, r.err
}

// Open opens the database in the directory dir read-only: it reads and
// checks the index and that every part it lists as present is on disk
// with the recorded size. Part files are opened, and their structure
// checked, on first use; a bad one is an error of the lookup that needs it.
func Open(dir string) (*DB, error) {
	idx, err := ReadIndex(dir)
	if err != nil {
		return nil, err
	}
	if err := CheckFiles(dir, idx); err != nil {
		return nil, err
	}
	db := &DB{dir: dir, index: idx, ecosystems: map[string]*group{}}
	groups := map[string]*group{}
	for _, e := range idx.Parts {
		g := groups[e.group()]
		if g == nil {
			g = &group{shards: make([]*partRef, e.Shards)}
			groups[e.group()] = g
			db.all = append(db.all, g)
			switch e.Kind {
			case KindEcosystem:
				db.ecosystems[e.Ecosystem] = g
			case KindEPSS:
				db.epss = g
			case KindKEV:
				db.kev = g
			case KindExtra:
				db.extra = g
			}
		}
		g.shards[e.Shard] = &partRef{dir: dir, entry: e}
	}
	return db, nil
}

// CheckFiles checks that every part idx lists as present is in dir with
// its recorded size (what Open checks before it trusts the index).
func CheckFiles(dir string, idx *Index) error {
	for _, e := range idx.Parts {
		if e.Local {
			if err := checkPartFile(dir, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkPartFile checks that a part listed as present is on disk with its
// recorded size.
func checkPartFile(dir string, e PartEntry) error {
	path := PartPath(dir, e.Content)
	fi, err := statRegular(path)
	if err != nil {
		return fmt.Errorf("vulndb: part %s: %w", e.PartKey, err)
	}
	if e.Size > 0 && fi != e.Size {
		return fmt.Errorf("vulndb: part %s: %s is %d bytes, the index says %d (truncated or replaced)", e.PartKey, path, fi, e.Size)
	}
	return nil
}

// Close releases the part files.
func (db *DB) Close() error {
	var errs []error
	for _, g := range db.all {
		for _, r := range g.shards {
			if r.p != nil {
				errs = append(errs, r.p.close())
			}
		}
	}
	return errors.Join(errs...)
}

// Metadata returns the database's metadata.
func (db *DB) Metadata() Metadata {
	m := db.index.Metadata
	m.SchemaVersion = db.index.SchemaVersion
	return m
}

// Index returns a copy of the database's index.
func (db *DB) Index() Index {
	idx := *db.index
	idx.Parts = slices.Clone(idx.Parts)
	return idx
}

// get reads bucket/key from the shard of g that key routes to.
func (db *DB) get(g *group, bucket []byte, key string, fn func([]byte) error) error {
	r := g.shard(key)
	p, err := r.open()
	if err != nil {
		return err
	}
	err = p.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return fmt.Errorf("no %s bucket", bucket)
		}
		if v := b.Get([]byte(key)); v != nil {
			return fn(v)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("part %s: %w", r.entry.PartKey, err)
	}
	return nil
}

// Affected returns every record for pkg in ecosystem, ordered by
// vulnerability id then source. Records of withdrawn advisories are not
// stored. Unknown ecosystems and packages yield no records and no error; an
// ecosystem whose part was not downloaded yields ErrMissingPart.
func (db *DB) Affected(ecosystem, pkg string) ([]Affected, error) {
	g := db.ecosystems[ecosystem]
	if g == nil {
		return nil, nil
	}
	db.markUsed(g)
	var out []Affected
	err := db.get(g, bucketAffected, pkg, func(raw []byte) error { return db.decode(raw, &out) })
	if err != nil {
		return nil, fmt.Errorf("vulndb: affected %s/%s: %w", ecosystem, pkg, err)
	}
	return out, nil
}

func (db *DB) markUsed(g *group) {
	db.mu.Lock()
	if !slices.Contains(db.used, g) {
		db.used = append(db.used, g)
	}
	db.mu.Unlock()
}

// searchOrder is where a vulnerability record may be: the ecosystems
// looked up so far (a finding's records are in its ecosystem's part, by
// construction), then the parts of no ecosystem, then every other
// ecosystem on disk.
func (db *DB) searchOrder() []*group {
	db.mu.Lock()
	order := slices.Clone(db.used)
	db.mu.Unlock()
	if db.extra != nil {
		order = append(order, db.extra)
	}
	for _, g := range db.all {
		if g != db.epss && g != db.kev && g != db.extra && !slices.Contains(order, g) {
			order = append(order, g)
		}
	}
	return order
}

// Vulnerability returns the record for id: the merged record of every
// source, with EPSS and KEV. It searches the parts on disk; the parts a
// scan downloads hold every record its findings name.
func (db *DB) Vulnerability(id string) (*Vulnerability, bool, error) {
	var v *Vulnerability
	for _, g := range db.searchOrder() {
		if !g.shard(id).entry.Local {
			continue
		}
		err := db.get(g, bucketVulns, id, func(raw []byte) error {
			v = new(Vulnerability)
			return db.decode(raw, v)
		})
		if err != nil {
			return nil, false, fmt.Errorf("vulndb: vulnerability %s: %w", id, err)
		}
		if v != nil {
			break
		}
	}
	var epss *EPSS
	var kev *KEV
	if db.epss != nil {
		if err := db.get(db.epss, bucketEPSS, id, func(raw []byte) error { return json.Unmarshal(raw, &epss) }); err != nil {
			return nil, false, fmt.Errorf("vulndb: vulnerability %s: %w", id, err)
		}
	}
	if db.kev != nil {
		if err := db.get(db.kev, bucketKEV, id, func(raw []byte) error { return json.Unmarshal(raw, &kev) }); err != nil {
			return nil, false, fmt.Errorf("vulndb: vulnerability %s: %w", id, err)
		}
	}
	if v == nil && epss == nil && kev == nil {
		return nil, false, nil
	}
	if v == nil {
		// Only enrichment is known here: the record itself is in a part
		// not on disk, or there is none (the EPSS and KEV feeds name CVEs
		// no other source describes).
		v = &Vulnerability{ID: id}
		if epss != nil {
			v.Sources = append(v.Sources, "epss")
		}
		if kev != nil {
			v.Sources = append(v.Sources, "kev")
		}
	}
	v.EPSS, v.KEV = epss, kev
	return v, true, nil
}

// aliasesOf returns the ids whose record names alias, from every part on
// disk, sorted.
func (db *DB) aliasesOf(alias string) ([]string, error) {
	var groups []*group
	for _, g := range db.all {
		if g != db.epss && g != db.kev {
			groups = append(groups, g)
		}
	}
	return db.lists(groups, bucketAliases, alias, "alias index")
}

// packagesOf returns the "<ecosystem>\x00<package>" keys of id's affected
// records, from every ecosystem part on disk, sorted.
func (db *DB) packagesOf(id string) ([]string, error) {
	return db.lists(slices.Collect(maps.Values(db.ecosystems)), bucketVulnPkgs, id, "package index")
}

// lists returns the union of the string lists stored under bucket/key in
// the groups whose part for key is on disk, sorted; what names the index
// in errors.
func (db *DB) lists(groups []*group, bucket []byte, key, what string) ([]string, error) {
	var out []string
	for _, g := range groups {
		if !g.shard(key).entry.Local {
			continue
		}
		err := db.get(g, bucket, key, func(raw []byte) error {
			var l []string
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("%s %s: %w", what, key, err)
			}
			out = append(out, l...)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
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
// records its aliases name, and the affected entries of all of them, from
// the parts on disk. It returns false when nothing is known.
func (db *DB) Show(id string) (Shown, bool, error) {
	s, err := db.show(id)
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

func (db *DB) show(id string) (Shown, error) {
	var s Shown
	// Breadth-first over both link directions (records naming an id, and
	// the aliases a record names), two hops deep: GO-1 → GHSA-1 → CVE-1 →
	// every record naming CVE-1. Bounded so a distribution advisory
	// listing hundreds of CVEs cannot explode the answer.
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
		v, _, err := db.Vulnerability(cur)
		if err != nil {
			return s, err
		}
		if v != nil {
			s.Vulnerabilities = append(s.Vulnerabilities, *v)
		}
		if depth[cur] >= 2 {
			continue
		}
		linked, err := db.aliasesOf(cur)
		if err != nil {
			return s, err
		}
		if v != nil {
			linked = append(linked, v.Aliases...)
		}
		for _, l := range linked {
			add(l, depth[cur]+1)
		}
	}
	for _, x := range ids {
		keys, err := db.packagesOf(x)
		if err != nil {
			return s, err
		}
		for _, k := range keys {
			eco, pkg, _ := strings.Cut(k, "\x00")
			recs, err := db.Affected(eco, pkg)
			if err != nil {
				return s, err
			}
			for _, a := range recs {
				if a.VulnID == x {
					s.Affected = append(s.Affected, a)
				}
			}
		}
	}
	return s, nil
}

// maxShown bounds the ids Show follows.
const maxShown = 256

// Ecosystems returns the ecosystems the database has data for (on disk or
// not), sorted.
func (db *DB) Ecosystems() ([]string, error) {
	return db.index.Ecosystems(), nil
}

// HasEcosystem reports whether the database has data for the ecosystem
// (on disk or not: a lookup in a part not on disk is an error, not an
// empty answer).
func (db *DB) HasEcosystem(ecosystem string) (bool, error) {
	return db.ecosystems[ecosystem] != nil, nil
}

func (db *DB) decode(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}
