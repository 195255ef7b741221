package vulndb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// testDB builds a small database with two ecosystems, EPSS and KEV in dir.
func testDB(t testing.TB, dir string, n int) {
	t.Helper()
	w, err := NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range n {
		id := fmt.Sprintf("CVE-2024-%04d", i)
		eco := []string{"npm", "alpine:3.19"}[i%2]
		if err := w.PutAffected(ctx, Affected{VulnID: id, Source: "test", Ecosystem: eco, Package: fmt.Sprintf("pkg-%d", i%37),
			Ranges: []Range{rng("0", fmt.Sprintf("1.%d.0", i))}, Status: StatusFixed}); err != nil {
			t.Fatal(err)
		}
		if err := w.PutVulnerability(ctx, Vulnerability{ID: id, Description: strings.Repeat("text ", i%20), Aliases: []string{"GHSA-" + id}, Sources: []string{"nvd"}}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := w.PutVulnerability(ctx, Vulnerability{ID: id, EPSS: &EPSS{Score: float64(i) / float64(n)}, Sources: []string{"epss"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Commit(ctx, Metadata{BuiltAt: time.Now().UTC().Truncate(time.Second), NextUpdate: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

func partFile(t *testing.T, dir, kind, eco string) (PartEntry, string) {
	t.Helper()
	idx, err := ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range idx.Parts {
		if p.Kind == kind && p.Ecosystem == eco {
			return p, PartPath(dir, p.Content)
		}
	}
	t.Fatalf("no part %s %s", kind, eco)
	return PartEntry{}, ""
}

// replacePart puts data in place of a part file (made writable first).
func replacePart(t *testing.T, path string, data []byte) {
	t.Helper()
	os.Chmod(path, 0o644)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRejects: a database without the expected structure is an error
// naming the problem — from Open, or from the first lookup in the part —
// never a panic.
func TestOpenRejects(t *testing.T) {
	for _, tt := range []struct {
		name    string
		corrupt func(t *testing.T, dir string)
		want    string // in the error of Open, or else of the lookup
	}{
		{"no database", func(t *testing.T, dir string) { os.RemoveAll(dir) }, "no database"},
		{"index junk", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, IndexFileName), []byte("{\"schemaVersion\": 2, \"parts\": [tru"), 0o644)
		}, "not a database index"},
		{"index of another schema", func(t *testing.T, dir string) { editIndex(t, dir, func(i *Index) { i.SchemaVersion = 1 }) }, "unsupported schema version 1"},
		{"shard missing from index", func(t *testing.T, dir string) {
			editIndex(t, dir, func(i *Index) {
				i.Parts[0].Shards = 2
			})
		}, "1 of 2 shards"},
		{"schema-1 file", func(t *testing.T, dir string) {
			os.RemoveAll(dir)
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "vigil.db"), []byte("old"), 0o644)
		}, "schema 1"},
		{"part file missing", func(t *testing.T, dir string) {
			_, path := partFile(t, dir, KindEcosystem, "npm")
			os.Remove(path)
		}, "no such file"},
		{"part truncated", func(t *testing.T, dir string) {
			_, path := partFile(t, dir, KindEcosystem, "npm")
			data, _ := os.ReadFile(path)
			replacePart(t, path, data[:len(data)/2])
		}, "truncated or replaced"},
		{"part truncated, index size edited to match", func(t *testing.T, dir string) {
			e, path := partFile(t, dir, KindEcosystem, "npm")
			data, _ := os.ReadFile(path)
			cut := len(data) / 2 / 4096 * 4096
			replacePart(t, path, data[:cut])
			editIndex(t, dir, func(i *Index) {
				for j := range i.Parts {
					if i.Parts[j].Content == e.Content {
						i.Parts[j].Size = int64(cut)
					}
				}
			})
		}, "npm"},
		{"part is junk", func(t *testing.T, dir string) {
			e, path := partFile(t, dir, KindEcosystem, "npm")
			replacePart(t, path, bytes.Repeat([]byte("junk"), int(e.Size/4)))
		}, "npm"},
		{"part of another schema", func(t *testing.T, dir string) {
			_, path := partFile(t, dir, KindEcosystem, "npm")
			editPart(t, path, func(tx *bolt.Tx) error {
				raw, _ := json.Marshal(PartInfo{SchemaVersion: 9, PartKey: PartKey{Kind: KindEcosystem, Ecosystem: "npm", Shards: 1}})
				return tx.Bucket(bucketPart).Put(keyPartInfo, raw)
			})
		}, "unsupported schema version 9"},
		{"part without its buckets", func(t *testing.T, dir string) {
			_, path := partFile(t, dir, KindEcosystem, "npm")
			editPart(t, path, func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketAffected) })
		}, "no affected bucket"},
		{"part holding another part", func(t *testing.T, dir string) {
			_, npm := partFile(t, dir, KindEcosystem, "npm")
			_, alpine := partFile(t, dir, KindEcosystem, "alpine:3.19")
			data, _ := os.ReadFile(alpine)
			replacePart(t, npm, data)
		}, "expected npm"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			testDB(t, dir, 200)
			tt.corrupt(t, dir)
			db, err := Open(dir)
			if err == nil {
				_, err = db.Affected("npm", "pkg-1")
				db.Close()
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func editIndex(t *testing.T, dir string, fn func(*Index)) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, IndexFileName))
	if err != nil {
		t.Fatal(err)
	}
	var idx Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	fn(&idx)
	raw, _ = json.Marshal(idx)
	os.WriteFile(filepath.Join(dir, IndexFileName), raw, 0o644)
}

// editPart changes a part file in place, and its size in the index.
func editPart(t *testing.T, path string, fn func(*bolt.Tx) error) {
	t.Helper()
	defer func() {
		dir := filepath.Dir(filepath.Dir(path))
		fi, _ := os.Stat(path)
		editIndex(t, dir, func(i *Index) {
			for j := range i.Parts {
				if PartPath(dir, i.Parts[j].Content) == path {
					i.Parts[j].Size = fi.Size()
				}
			}
		})
	}()
	os.Chmod(path, 0o644)
	b, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(fn); err != nil {
		t.Fatal(err)
	}
	b.Close()
}

// TestCheckPartCorruption flips bytes all over a part file: CheckPart
// either finds the same content or reports an error; it never panics or
// faults.
func TestCheckPartCorruption(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	testDB(t, dir, 300)
	e, path := partFile(t, dir, KindEcosystem, "npm")
	orig, _ := os.ReadFile(path)
	r := rand.New(rand.NewPCG(1, 2))
	bad := filepath.Join(t.TempDir(), "bad.db")
	rejected := 0
	for i := range 200 {
		data := bytes.Clone(orig)
		switch i % 3 {
		case 0:
			for range 1 + r.IntN(8) {
				data[r.IntN(len(data))] ^= byte(1 + r.IntN(255))
			}
		case 1:
			data = data[:r.IntN(len(data))]
		case 2:
			at := 4096 * (2 + r.IntN(len(data)/4096-2))
			copy(data[at:], bytes.Repeat([]byte{0xff}, 64))
		}
		os.WriteFile(bad, data, 0o644)
		pf, err := CheckPart(bad)
		switch {
		case err != nil:
			rejected++
		case pf.Content != e.Content:
			// Bytes in unused page space change nothing; a changed
			// record must change the content digest, which the index
			// holds: the mismatch is caught by whoever installs it.
		}
	}
	if rejected == 0 {
		t.Error("no corruption was detected")
	}
}

// TestDeltaRoundTrip: a delta between two builds turns the first into a
// part with the second's content digest.
func TestDeltaRoundTrip(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	testDB(t, a, 300)
	testDB(t, b, 320) // more records, changed packages
	_, oldPath := partFile(t, a, KindEcosystem, "npm")
	newEntry, newPath := partFile(t, b, KindEcosystem, "npm")
	var delta bytes.Buffer
	info, err := WriteDelta(&delta, oldPath, newPath)
	if err != nil {
		t.Fatal(err)
	}
	if info.Puts == 0 || info.To != newEntry.Content {
		t.Fatalf("delta %+v", info)
	}
	out := filepath.Join(t.TempDir(), "out.db")
	pf, err := ApplyDelta(oldPath, bytes.NewReader(delta.Bytes()), out)
	if err != nil {
		t.Fatal(err)
	}
	if pf.Content != newEntry.Content || pf.Records != newEntry.Records {
		t.Errorf("applied: %+v, want content %s and %d records", pf, newEntry.Content, newEntry.Records)
	}
	if check, err := CheckPart(out); err != nil || check.Content != pf.Content {
		t.Errorf("CheckPart of the result: %+v, %v", check, err)
	}
	// Applied to the wrong base, it refuses.
	_, otherPath := partFile(t, b, KindEcosystem, "npm")
	if _, err := ApplyDelta(otherPath, bytes.NewReader(delta.Bytes()), filepath.Join(t.TempDir(), "x.db")); err == nil {
		t.Error("delta applied to a base of other content")
	}
	// And the same-content delta is empty.
	var none bytes.Buffer
	info, err = WriteDelta(&none, newPath, newPath)
	if err != nil || info.Puts+info.Deletes != 0 {
		t.Errorf("delta to itself: %+v, %v", info, err)
	}
}

func TestApplyDeltaRejects(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	testDB(t, a, 50)
	testDB(t, b, 60)
	_, oldPath := partFile(t, a, KindEcosystem, "npm")
	_, newPath := partFile(t, b, KindEcosystem, "npm")
	var delta bytes.Buffer
	if _, err := WriteDelta(&delta, oldPath, newPath); err != nil {
		t.Fatal(err)
	}
	good := delta.Bytes()
	for name, data := range map[string][]byte{
		"empty":       nil,
		"magic":       []byte("not a delta"),
		"truncated":   good[:len(good)-3],
		"no end":      good[:len(good)-1],
		"after end":   append(bytes.Clone(good), 0),
		"unknown op":  append(bytes.Clone(good[:len(good)-1]), 7),
		"flipped":     flip(good, len(good)-10),
		"huge length": append(append(bytes.Clone(good[:len(good)-1]), opPut), 0xff, 0xff, 0xff, 0xff, 0x0f),
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.db")
			if _, err := ApplyDelta(oldPath, bytes.NewReader(data), out); err == nil {
				t.Fatal("accepted")
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output left behind: %v", err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x40
	return c
}

// FuzzApplyDelta feeds arbitrary deltas to ApplyDelta: it must fail
// cleanly or produce a part whose content digest it reports truthfully.
func FuzzApplyDelta(f *testing.F) {
	dir := f.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	testDB(f, a, 20)
	testDB(f, b, 24)
	idxA, _ := ReadIndex(a)
	idxB, _ := ReadIndex(b)
	var oldPath, newPath string
	for i, p := range idxA.Parts {
		if p.Ecosystem == "npm" {
			oldPath, newPath = PartPath(a, p.Content), PartPath(b, idxB.Parts[i].Content)
		}
	}
	var delta bytes.Buffer
	if _, err := WriteDelta(&delta, oldPath, newPath); err != nil {
		f.Fatal(err)
	}
	f.Add(delta.Bytes())
	f.Add([]byte(deltaMagic))
	out := filepath.Join(dir, "out.db")
	f.Fuzz(func(t *testing.T, data []byte) {
		os.Remove(out)
		pf, err := ApplyDelta(oldPath, bytes.NewReader(data), out)
		if err != nil {
			return
		}
		check, err := CheckPart(out)
		if err != nil || check.Content != pf.Content {
			t.Fatalf("accepted delta gave %+v, CheckPart %+v %v", pf, check, err)
		}
	})
}

// FuzzReadIndex: any index file is read or rejected, never trusted
// inconsistent.
func FuzzReadIndex(f *testing.F) {
	dir := f.TempDir()
	db := filepath.Join(dir, "db")
	testDB(f, db, 10)
	raw, _ := os.ReadFile(filepath.Join(db, IndexFileName))
	f.Add(raw)
	f.Add([]byte(`{"schemaVersion":2,"parts":[{"kind":"ecosystem","ecosystem":"npm","shard":0,"shards":2,"content":"sha256:00"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := filepath.Join(t.TempDir(), "db")
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, IndexFileName), data, 0o644)
		idx, err := ReadIndex(d)
		if err != nil {
			return
		}
		if err := idx.check(); err != nil {
			t.Fatalf("ReadIndex accepted an index its check rejects: %v", err)
		}
		if db, err := Open(d); err == nil {
			for _, e := range idx.Ecosystems() {
				db.Affected(e, "x")
			}
			db.Vulnerability("CVE-1")
			db.Close()
		}
	})
}

// TestSweep removes what a killed process leaves, and nothing else.
func TestSweep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	testDB(t, dir, 30)
	before := snapshot(t, dir)
	old := time.Now().Add(-2 * time.Hour)
	leftovers := []string{
		filepath.Join(dir, tempPrefix+"staging-1"),
		filepath.Join(dir, PartsDirName, tempPrefix+"part-1"),
		filepath.Join(dir, PartsDirName, strings.Repeat("ab", 32)+".db"), // unreferenced part
	}
	for _, p := range leftovers {
		os.WriteFile(p, []byte("x"), 0o644)
		os.Chtimes(p, old, old)
	}
	young := filepath.Join(dir, PartsDirName, tempPrefix+"download-2") // in use by a running update
	os.WriteFile(young, []byte("x"), 0o644)
	held, err := TempFile(filepath.Join(dir, PartsDirName), "held-*") // old but locked
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	os.Chtimes(held.Name(), old, old)
	n, err := Sweep(dir)
	if err != nil || n != len(leftovers) {
		t.Errorf("Sweep removed %d files (%v), want %d", n, err, len(leftovers))
	}
	for _, p := range leftovers {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s not removed", p)
		}
	}
	for _, p := range []string{young, held.Name()} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	os.Remove(young)
	os.Remove(held.Name())
	after := snapshot(t, dir)
	delete(after, filepath.Join(PartsDirName, filepath.Base(held.Name())))
	if !reflect.DeepEqual(before, after) {
		t.Error("Sweep changed the database")
	}
	if db, err := Open(dir); err != nil {
		t.Error(err)
	} else {
		db.Close()
	}
}

// TestLockWait: a held lock is waited for, then given up with the
// holder's description.
func TestLockWait(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(context.Background(), dir, LockOptions{Purpose: "update"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Lock(context.Background(), dir, LockOptions{Wait: 300 * time.Millisecond})
	var locked *ErrLocked
	if !errors.As(err, &locked) || locked.Holder.PID != os.Getpid() || locked.Holder.Purpose != "update" {
		t.Fatalf("second Lock: %v", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("waited %s", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, dir, LockOptions{Wait: time.Hour}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock past the context's deadline: %v", err)
	}
	unlock()
	again, err := Lock(context.Background(), dir, LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again()
}

func TestShardsFor(t *testing.T) {
	const m = targetPartBytes
	for _, tt := range []struct {
		est        int64
		prev, want int
	}{
		{0, 0, 1},
		{m, 0, 1},
		{m + 1, 0, 2},
		{5 * m, 0, 8},
		{5 * m, 4, 4},  // 1.25 m per shard: kept
		{9 * m, 4, 16}, // 2.25 m per shard: split further
		{m / 2, 4, 1},  // an eighth of m per shard: merged
		{3 * m, 1, 4},  // a single part grown past 2 m
		{m / 8, 1, 1},  // a small group stays one part
		{2 * m, 2, 2},  // exactly 1 m per shard
		{m / 4, 1, 1},
	} {
		if got := shardsFor(tt.est, tt.prev); got != tt.want {
			t.Errorf("shardsFor(%d MiB, %d) = %d, want %d", tt.est>>20, tt.prev, got, tt.want)
		}
	}
}
