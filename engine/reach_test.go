package engine

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/evaluate"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/store"
	"github.com/vigil-scanner/vigil/vulndb"
)

// goAdvisory is a Go advisory on golang.org/x/text below fixed, naming
// the vulnerable symbols syms (none: the whole package).
type goAdvisory struct {
	id, fixed string
	syms      []string
}

func writeGoDB(t *testing.T, dir string, advs ...goAdvisory) {
	t.Helper()
	w, err := vulndb.NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, a := range advs {
		if err := w.PutVulnerability(ctx, vulndb.Vulnerability{ID: a.id, Title: "title of " + a.id}); err != nil {
			t.Fatal(err)
		}
		if err := w.PutAffected(ctx, vulndb.Affected{VulnID: a.id, Source: "osv:Go", Ecosystem: "Go", Package: "golang.org/x/text", Status: vulndb.StatusFixed,
			Fixed: []string{a.fixed}, Symbols: a.syms,
			Ranges: []vulndb.Range{{Scheme: vulndb.SchemeSemver, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: a.fixed}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx, vulndb.Metadata{BuiltAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
}

// TestRematchKeepsReachability: the symbol table of a Go executable is
// stored with its inventory, so a re-match after a database change marks
// the same findings unreachable as the first match did, and a report made
// from the stored inventory does too.
func TestRematchKeepsReachability(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "db")
	parse := goAdvisory{"GO-2021-0113", "0.3.7", []string{"golang.org/x/text/language.Parse"}}                // in the binary
	accept := goAdvisory{"GO-2022-1059", "0.3.8", []string{"golang.org/x/text/language.ParseAcceptLanguage"}} // not in it
	writeGoDB(t, dbPath, parse, accept)
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	// What the gobinary cataloger makes of a binary calling language.Parse.
	syms := map[string]bool{"golang.org/x/text/language.Parse": true, "main.main": true, "fmt.Println": true}
	inv := &inventory.Inventory{Artifact: inventory.Artifact{Name: "app", Type: inventory.TypeContainerImage}, Results: []inventory.Result{{
		Target: "usr/local/bin/app", Class: inventory.ClassLangPkgs, Type: "gobinary",
		Packages: []inventory.Package{
			{Name: "golang.org/x/text", Version: "v0.3.5", Purl: "pkg:golang/golang.org/x/text@v0.3.5", Symbols: syms},
			{Name: "stdlib", Version: "v1.22.0", Purl: "pkg:golang/stdlib@v1.22.0", Symbols: syms},
		},
	}}}
	const digest = "sha256:00000000000000000000000000000000000000000000000000000000000000aa"
	now := time.Now()
	if err := st.SaveInventory(ctx, now, store.Image{Digest: digest, Registry: "r:5000", Repository: "r:5000/app", InventoryKey: inventoryKey()}, inv); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SetTag(ctx, now, store.Tag{Registry: "r:5000", Repository: "r:5000/app", Tag: "1", Digest: digest}); err != nil {
		t.Fatal(err)
	}
	reach := func() []string {
		t.Helper()
		fs, err := st.OpenFindings(ctx, digest)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			out = append(out, f.VulnID+" "+f.Reachability)
		}
		return out
	}
	rematch := func() {
		t.Helper()
		e := newEngine(t, st, dbPath, nil)
		defer e.db.close()
		if err := e.checkDB(ctx); err != nil {
			t.Fatal(err)
		}
		for {
			n, failed, err := e.runBatch(ctx)
			if err != nil || failed > 0 {
				t.Fatalf("re-match: %d failed, %v", failed, err)
			}
			if n == 0 {
				break
			}
		}
	}

	rematch()
	want := []string{"GO-2021-0113 ", "GO-2022-1059 unreachable"}
	if got := reach(); !slices.Equal(got, want) {
		t.Fatalf("first match: %q, want %q", got, want)
	}

	// A database change: a new advisory naming no symbol (never judged
	// unreachable), and every stored inventory matched again.
	writeGoDB(t, dbPath, parse, accept, goAdvisory{"GO-2022-9999", "0.3.9", nil})
	rematch()
	want = []string{"GO-2021-0113 ", "GO-2022-1059 unreachable", "GO-2022-9999 "}
	if got := reach(); !slices.Equal(got, want) {
		t.Errorf("after the re-match: %q, want %q", got, want)
	}

	// The stored inventory, as reports are made from it, still knows the
	// binary's symbols.
	stored, _, err := st.Inventory(ctx, digest)
	if err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := evaluate.Evaluate(ctx, stored, evaluate.Options{Matcher: match.New(db, match.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range evaluate.Findings(res.Report) {
		if wantU := f.Finding.ID == "GO-2022-1059"; (f.Finding.Reachability == match.Unreachable) != wantU {
			t.Errorf("report from the stored inventory: %s reachability %q", f.Finding.ID, f.Finding.Reachability)
		}
	}
}

// TestRematchBatchPoison: when the store refuses one image's findings, the
// other images of its batch are recorded and only that image's job fails.
func TestRematchBatchPoison(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "db")
	writeGoDB(t, dbPath, goAdvisory{"GO-2021-0113", "0.3.7", nil})
	storePath := filepath.Join(dir, "vigil.db")
	st, err := store.Open(context.Background(), "sqlite://"+storePath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Now()
	digests := []string{"sha256:" + strings.Repeat("1", 64), "sha256:" + strings.Repeat("2", 64), "sha256:" + strings.Repeat("3", 64)}
	for i, d := range digests {
		inv := &inventory.Inventory{Results: []inventory.Result{{Target: "app", Class: inventory.ClassLangPkgs, Type: "gobinary", Packages: []inventory.Package{
			{Name: "golang.org/x/text", Version: "v0.3." + strconv.Itoa(i+4), Purl: "pkg:golang/golang.org/x/text@v0.3." + strconv.Itoa(i+4)}}}}}
		if err := st.SaveInventory(ctx, now, store.Image{Digest: d, Registry: "r", Repository: "r/app", InventoryKey: inventoryKey()}, inv); err != nil {
			t.Fatal(err)
		}
	}
	// The store refuses the second image's finding.
	db, err := sql.Open("sqlite", "file:"+storePath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER poison BEFORE INSERT ON findings WHEN NEW.pkg_version = 'v0.3.5' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, st, dbPath, nil)
	defer e.db.close()
	if err := e.checkDB(ctx); err != nil {
		t.Fatal(err)
	}
	ran, failed, err := e.runBatch(ctx)
	if err != nil || ran != 3 || failed != 1 {
		t.Fatalf("batch: ran %d, failed %d, %v; want 3 run, 1 failed", ran, failed, err)
	}
	for i, d := range digests {
		fs, _ := st.OpenFindings(ctx, d)
		if want := map[int]int{0: 1, 1: 0, 2: 1}[i]; len(fs) != want {
			t.Errorf("image %d: %d findings, want %d", i+1, len(fs), want)
		}
	}
	fails, _ := st.Failures(ctx, 10)
	if len(fails) != 1 || !strings.Contains(fails[0].Error, "poisoned") || !strings.Contains(fails[0].Key, digests[1]) {
		t.Errorf("failures = %+v", fails)
	}
}
