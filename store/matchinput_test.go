package store

import (
	"context"
	"slices"
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
)

func TestMatchInputs(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			syms := map[string]bool{"golang.org/x/text/language.Parse": true, "main.main": true}
			inv := &inventory.Inventory{Results: []inventory.Result{
				{Target: "img (alpine 3.19)", Class: inventory.ClassOSPkgs, Type: "alpine", Packages: []inventory.Package{
					{Name: "musl", Version: "1.2.4-r2", InstalledFiles: []string{"lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1"}},
				}},
				{Target: "usr/bin/app", Class: inventory.ClassLangPkgs, Type: "gobinary", Packages: []inventory.Package{
					{Name: "golang.org/x/text", Version: "v0.3.5", Symbols: syms},
					{Name: "stdlib", Version: "v1.22.0", Symbols: syms},
				}},
			}}
			if err := s.SaveInventory(ctx, t0, Image{Digest: "sha256:a", Registry: "r", Repository: "r/app", InventoryKey: "k1"}, inv); err != nil {
				t.Fatal(err)
			}
			// An image stored before match inputs existed: its JSON
			// inventory is read instead.
			if err := s.SaveInventory(ctx, t0, Image{Digest: "sha256:b", Registry: "r", Repository: "r/old", InventoryKey: "k0"}, inv); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.ExecContext(ctx, s.d.rebind(`UPDATE images SET match_input = NULL WHERE digest = ?`), "sha256:b"); err != nil {
				t.Fatal(err)
			}

			ins, err := s.MatchInputs(ctx, []string{"sha256:b", "sha256:none", "sha256:a"})
			if err != nil {
				t.Fatal(err)
			}
			if len(ins) != 2 || ins[0].Digest != "sha256:b" || ins[1].Digest != "sha256:a" || ins[1].InventoryKey != "k1" {
				t.Fatalf("match inputs = %+v", ins)
			}
			got, err := ins[1].Decode()
			if err != nil {
				t.Fatal(err)
			}
			if f := got.Results[0].Packages[0].InstalledFiles; f != nil {
				t.Errorf("match input keeps installed files %q", f)
			}
			for _, p := range got.Results[1].Packages {
				if !p.Symbols["golang.org/x/text/language.Parse"] || len(p.Symbols) != 2 {
					t.Errorf("%s symbols = %v", p.Name, p.Symbols)
				}
			}
			legacy, err := ins[0].Decode()
			if err != nil {
				t.Fatal(err)
			}
			if legacy.Results[1].Packages[0].Symbols != nil || len(legacy.Results[0].Packages[0].InstalledFiles) != 2 {
				t.Errorf("legacy inventory = %+v", legacy.Results)
			}

			// The whole inventory: files and symbols.
			whole, key, err := s.Inventory(ctx, "sha256:a")
			if err != nil || key != "k1" {
				t.Fatal(key, err)
			}
			if len(whole.Results[0].Packages[0].InstalledFiles) != 2 || !whole.Results[1].Packages[1].Symbols["main.main"] {
				t.Errorf("inventory = %+v", whole.Results)
			}
		})
	}
}

// TestApplyMatches: a batch of matches is applied with its jobs done in
// one transaction; a match that finds what the image's findings hash
// says writes nothing but the match time.
func TestApplyMatches(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			for _, d := range []string{"sha256:a", "sha256:b"} {
				if err := s.SaveInventory(ctx, t0, Image{Digest: d, Registry: "r", Repository: "r/app", InventoryKey: "k"}, &inventory.Inventory{}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Enqueue(ctx, t0, NewJob{Kind: JobRematch, Key: "a", Payload: "{}"}, NewJob{Kind: JobRematch, Key: "b", Payload: "{}"}); err != nil {
				t.Fatal(err)
			}
			jobs, err := s.Claim(ctx, "me", t0, 60e9, 10)
			if err != nil || len(jobs) != 2 {
				t.Fatal(jobs, err)
			}
			f1 := Finding{VulnID: "CVE-1", PkgName: "musl", PkgVersion: "1", Target: "alpine 3.19", Severity: "HIGH", Reachability: "unreachable"}
			f2 := Finding{VulnID: "CVE-2", PkgName: "musl", PkgVersion: "1", Target: "alpine 3.19", Severity: "LOW"}
			chs, err := s.ApplyMatches(ctx, t0, []Matched{
				{Digest: "sha256:a", DBDigest: "db1", Found: []Finding{f1, f2}},
				{Digest: "sha256:b", DBDigest: "db1", Found: []Finding{f2}},
			}, JobsDone{Owner: "me", IDs: []int64{jobs[0].ID, jobs[1].ID}})
			if err != nil {
				t.Fatal(err)
			}
			if len(chs) != 2 || len(chs[0].New) != 2 || len(chs[1].New) != 1 {
				t.Fatalf("changes = %+v", chs)
			}
			if pending, _ := s.Pending(ctx); pending {
				t.Error("jobs not done with their matches")
			}
			open, _ := s.OpenFindings(ctx, "sha256:a")
			if len(open) != 2 || open[0].Reachability != "unreachable" || open[1].Reachability != "" {
				t.Errorf("findings = %+v", open)
			}

			// Matched again with another database: the same findings (in
			// another order) for a, one resolved and a detail changed
			// for b.
			ins, _ := s.MatchInputs(ctx, []string{"sha256:a", "sha256:b"})
			f2b := f2
			f2b.Severity = "MEDIUM"
			t1 := t0.Add(60e9)
			chs, err = s.ApplyMatches(ctx, t1, []Matched{
				{Digest: "sha256:a", DBDigest: "db2", Found: []Finding{f2, f1}, KnownHash: ins[0].FindingsHash},
				{Digest: "sha256:b", DBDigest: "db2", Found: nil, KnownHash: ins[1].FindingsHash, Resolution: "withdrawn"},
			}, JobsDone{})
			if err != nil {
				t.Fatal(err)
			}
			if len(chs[0].New)+len(chs[0].Resolved) != 0 || len(chs[1].Resolved) != 1 || chs[1].Resolved[0].Key() != f2.Key() {
				t.Errorf("changes = %+v", chs)
			}
			img, _ := s.Image(ctx, "sha256:a")
			if img.DBDigest != "db2" || !img.MatchedAt.Equal(t1) {
				t.Errorf("image a after an unchanged match = %+v", img)
			}
			// A stale hash (the findings changed since it was read) is
			// not trusted: the whole comparison is made, and CVE-2 found
			// again after it was resolved.
			chs, err = s.ApplyMatches(ctx, t1, []Matched{{Digest: "sha256:b", DBDigest: "db3", Found: []Finding{f2}, KnownHash: ins[1].FindingsHash}}, JobsDone{})
			if err != nil || len(chs[0].New) != 1 {
				t.Fatalf("changes = %+v, %v", chs, err)
			}
			// A detail changed: written, not new.
			chs, err = s.ApplyMatches(ctx, t1, []Matched{{Digest: "sha256:b", DBDigest: "db4", Found: []Finding{f2b}}}, JobsDone{})
			if err != nil || len(chs[0].New)+len(chs[0].Resolved) != 0 {
				t.Fatalf("changes = %+v, %v", chs, err)
			}
			open, _ = s.OpenFindings(ctx, "sha256:b")
			if len(open) != 1 || open[0].Severity != "MEDIUM" {
				t.Errorf("findings of b = %+v", open)
			}
			if h := FindingsHash([]Finding{f1, f2}); h != FindingsHash([]Finding{f2, f1}) || h == FindingsHash([]Finding{f1, f2b}) {
				t.Error("FindingsHash depends on order or ignores details")
			}
		})
	}
}

// TestReadFindingsStale: findings read before the transaction are used
// only while the image's findings are unchanged; a change in between (a
// scan, a resolution) makes the transaction read them again.
func TestReadFindingsStale(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			if err := s.SaveInventory(ctx, t0, Image{Digest: "sha256:a", Registry: "r", Repository: "r/app"}, &inventory.Inventory{}); err != nil {
				t.Fatal(err)
			}
			f1 := Finding{VulnID: "CVE-1", PkgName: "p", PkgVersion: "1", Target: "t", Severity: "HIGH"}
			f2 := Finding{VulnID: "CVE-2", PkgName: "p", PkgVersion: "1", Target: "t", Severity: "LOW"}
			f3 := Finding{VulnID: "CVE-3", PkgName: "p", PkgVersion: "1", Target: "t", Severity: "LOW"}
			if _, err := s.ApplyFindings(ctx, t0, "sha256:a", "db1", []Finding{f1}, "gone", nil); err != nil {
				t.Fatal(err)
			}
			// Read with {f1} open, as a re-match would.
			m := Matched{Digest: "sha256:a", DBDigest: "db2", Found: []Finding{f1, f3}, Resolution: "withdrawn"}
			if err := s.ReadFindings(ctx, &m); err != nil {
				t.Fatal(err)
			}
			// Meanwhile a scan records f2 and resolves f1.
			if _, err := s.ApplyFindings(ctx, t0.Add(1e9), "sha256:a", "db1", []Finding{f2}, "gone", nil); err != nil {
				t.Fatal(err)
			}
			chs, err := s.ApplyMatches(ctx, t0.Add(2e9), []Matched{m}, JobsDone{})
			if err != nil {
				t.Fatal(err)
			}
			// Against the findings as they are: f1 found again, f3 new,
			// f2 resolved. With the stale read, f2 would stay open.
			var news, resolved []string
			for _, f := range chs[0].New {
				news = append(news, f.VulnID)
			}
			for _, f := range chs[0].Resolved {
				resolved = append(resolved, f.VulnID)
			}
			if !slices.Equal(news, []string{"CVE-1", "CVE-3"}) || !slices.Equal(resolved, []string{"CVE-2"}) {
				t.Errorf("new %q, resolved %q; want CVE-1 and CVE-3 new, CVE-2 resolved", news, resolved)
			}
			open, _ := s.OpenFindings(ctx, "sha256:a")
			if len(open) != 2 || open[0].VulnID != "CVE-1" || open[1].VulnID != "CVE-3" {
				t.Errorf("open = %+v", open)
			}

			// A read that is still current is used as it is.
			m = Matched{Digest: "sha256:a", DBDigest: "db3", Found: []Finding{f3}, Resolution: "withdrawn"}
			if err := s.ReadFindings(ctx, &m); err != nil {
				t.Fatal(err)
			}
			chs, err = s.ApplyMatches(ctx, t0.Add(3e9), []Matched{m}, JobsDone{})
			if err != nil || len(chs[0].New) != 0 || len(chs[0].Resolved) != 1 || chs[0].Resolved[0].VulnID != "CVE-1" {
				t.Errorf("changes = %+v, %v", chs, err)
			}
		})
	}
}

// FuzzDecodeMatchInput: a corrupt match input is an error, never a panic.
func FuzzDecodeMatchInput(f *testing.F) {
	blob, err := encodeMatchInput(&inventory.Inventory{Results: []inventory.Result{{Type: "gobinary", Packages: []inventory.Package{
		{Name: "stdlib", Version: "v1.22.0", Symbols: map[string]bool{"main.main": true}}}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob)
	f.Add([]byte{})
	f.Add(blob[:len(blob)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeMatchInput(b)
	})
}
