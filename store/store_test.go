package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/internal/testutil/pgtest"
	"github.com/vigil-scanner/vigil/inventory"
)

// backends opens an empty store of each kind.
func backends(t *testing.T) map[string]func(t *testing.T) *Store {
	return map[string]func(t *testing.T) *Store{
		"sqlite": func(t *testing.T) *Store {
			return openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "vigil.db"))
		},
		"postgres": func(t *testing.T) *Store {
			return openStore(t, pgtest.Start(t))
		},
	}
}

func openStore(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestStore(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			t.Run("migrate twice", func(t *testing.T) { testMigrateTwice(t, s) })
			t.Run("jobs", func(t *testing.T) { testJobs(t, s) })
			t.Run("concurrent claims", func(t *testing.T) { testConcurrentClaims(t, s) })
			t.Run("findings", func(t *testing.T) { testFindings(t, s) })
			t.Run("tags", func(t *testing.T) { testTags(t, s) })
			t.Run("concurrent applies sharing aliases", func(t *testing.T) { testConcurrentAliases(t, s) })
		})
	}
}

func testMigrateTwice(t *testing.T, s *Store) {
	ctx := context.Background()
	if err := s.migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.db.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("version = %d, %v; want %d", v, err, SchemaVersion)
	}
}

func testJobs(t *testing.T, s *Store) {
	ctx := context.Background()
	n, err := s.Enqueue(ctx, t0, NewJob{Kind: JobScan, Key: "scan:a", Payload: "{}"}, NewJob{Kind: JobScan, Key: "scan:b", Payload: "{}", RunAfter: t0.Add(time.Hour)})
	if err != nil || n != 2 {
		t.Fatalf("Enqueue = %d, %v", n, err)
	}
	if n, _ := s.Enqueue(ctx, t0, NewJob{Kind: JobScan, Key: "scan:a", Payload: "{}"}); n != 0 {
		t.Errorf("enqueueing an existing key added %d jobs", n)
	}
	jobs, err := s.Claim(ctx, "w1", t0, time.Minute, 10)
	if err != nil || len(jobs) != 1 || jobs[0].Key != "scan:a" || jobs[0].Attempts != 1 {
		t.Fatalf("Claim = %+v, %v; want scan:a only (scan:b is not due)", jobs, err)
	}
	if again, _ := s.Claim(ctx, "w2", t0.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
		t.Fatalf("a leased job was claimed again: %+v", again)
	}
	// The lease expires: the job is taken over, and the first owner can no
	// longer complete it.
	taken, err := s.Claim(ctx, "w2", t0.Add(2*time.Minute), time.Minute, 1, JobScan)
	if err != nil || len(taken) != 1 || taken[0].ID != jobs[0].ID || taken[0].Attempts != 2 {
		t.Fatalf("expired lease: Claim = %+v, %v", taken, err)
	}
	if ok, _ := s.Complete(ctx, jobs[0].ID, "w1", t0); ok {
		t.Error("a job was completed by an owner whose lease had expired")
	}
	if err := s.Retry(ctx, taken[0].ID, "w2", t0, t0.Add(5*time.Minute), fmt.Errorf("registry down"), false); err != nil {
		t.Fatal(err)
	}
	fails, _ := s.Failures(ctx, 10)
	if len(fails) != 1 || fails[0].Error != "registry down" {
		t.Errorf("Failures = %+v", fails)
	}
	again, _ := s.Claim(ctx, "w3", t0.Add(6*time.Minute), time.Minute, 1, JobScan)
	if len(again) != 1 {
		t.Fatal("retried job not claimed after its backoff")
	}
	if ok, err := s.Complete(ctx, again[0].ID, "w3", t0); !ok || err != nil {
		t.Fatalf("Complete = %t, %v", ok, err)
	}
	if err := s.Requeue(ctx, "scan:a", t0, t0); err != nil {
		t.Fatal(err)
	}
	counts, _ := s.JobCounts(ctx)
	if counts[[2]string{JobScan, JobQueued}] != 2 {
		t.Errorf("counts = %v", counts)
	}
}

func testConcurrentClaims(t *testing.T, s *Store) {
	ctx := context.Background()
	var jobs []NewJob
	for i := range 200 {
		jobs = append(jobs, NewJob{Kind: JobRematch, Key: fmt.Sprintf("rematch:%d", i), Payload: "{}"})
	}
	if _, err := s.Enqueue(ctx, t0, jobs...); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[int64]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("w%d", w)
			for {
				js, err := s.Claim(ctx, owner, t0, time.Hour, 7, JobRematch)
				if err != nil {
					t.Error(err)
					return
				}
				if len(js) == 0 {
					return
				}
				mu.Lock()
				for _, j := range js {
					if prev, dup := got[j.ID]; dup {
						t.Errorf("job %d claimed by %s and %s", j.ID, prev, owner)
					}
					got[j.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != 200 {
		t.Errorf("%d jobs claimed, want 200", len(got))
	}
}

func testFindings(t *testing.T, s *Store) {
	ctx := context.Background()
	inv := &inventory.Inventory{Results: []inventory.Result{{Target: "alpine 3.19", Class: "os-pkgs", Type: "apk",
		Packages: []inventory.Package{{Name: "openssl", Version: "3.1.4-r0"}, {Name: "zlib", Version: "1.3-r0"}}}}}
	img := Image{Digest: "sha256:aa", Registry: "r:5000", Repository: "r:5000/app", Platform: "linux/amd64", InventoryKey: "k1"}
	if err := s.SaveInventory(ctx, t0, img, inv); err != nil {
		t.Fatal(err)
	}
	back, key, err := s.Inventory(ctx, "sha256:aa")
	if err != nil || key != "k1" || len(back.Results[0].Packages) != 2 {
		t.Fatalf("Inventory = %+v, %q, %v", back, key, err)
	}
	if _, _, err := s.SetTag(ctx, t0, Tag{Registry: "r:5000", Repository: "r:5000/app", Tag: "1", Platform: "linux/amd64", Digest: "sha256:aa"}); err != nil {
		t.Fatal(err)
	}
	f1 := Finding{VulnID: "CVE-1", Aliases: []string{"GHSA-x"}, PkgName: "openssl", PkgVersion: "3.1.4-r0", Target: "alpine 3.19", Severity: "HIGH", FixedVersion: "3.1.5-r0"}
	f2 := Finding{VulnID: "CVE-2", PkgName: "zlib", PkgVersion: "1.3-r0", Target: "alpine 3.19", Severity: "LOW"}
	alertsFor := func(ch Change) ([]Alert, error) {
		var out []Alert
		for _, f := range ch.New {
			out = append(out, Alert{Route: "hook", Digest: f.Digest, Finding: f.Key(), Event: "test", Payload: `{"id":"` + f.VulnID + `"}`})
		}
		return out, nil
	}
	ch, err := s.ApplyFindings(ctx, t0, "sha256:aa", "db1", []Finding{f1, f2}, "withdrawn", alertsFor)
	if err != nil || len(ch.New) != 2 || len(ch.Resolved) != 0 {
		t.Fatalf("first ApplyFindings = %+v, %v", ch, err)
	}
	// Idempotent: the same input changes nothing and adds no alert.
	ch, err = s.ApplyFindings(ctx, t0.Add(time.Minute), "sha256:aa", "db1", []Finding{f1, f2}, "withdrawn", alertsFor)
	if err != nil || len(ch.New) != 0 || len(ch.Resolved) != 0 {
		t.Fatalf("repeated ApplyFindings = %+v, %v", ch, err)
	}
	// CVE-2 withdrawn: resolved, and when it comes back no second alert.
	ch, _ = s.ApplyFindings(ctx, t0.Add(2*time.Minute), "sha256:aa", "db2", []Finding{f1}, "withdrawn", alertsFor)
	if len(ch.Resolved) != 1 || ch.Resolved[0].VulnID != "CVE-2" {
		t.Fatalf("Resolved = %+v", ch.Resolved)
	}
	ch, _ = s.ApplyFindings(ctx, t0.Add(3*time.Minute), "sha256:aa", "db3", []Finding{f1, f2}, "withdrawn", alertsFor)
	if len(ch.New) != 1 || !ch.New[0].FirstSeen.Equal(t0) {
		t.Fatalf("reappeared = %+v (first seen at t0)", ch.New)
	}
	if open, _ := s.OpenFindings(ctx, "sha256:aa"); len(open) != 2 || !open[1].FirstSeen.Equal(t0) || !open[1].ResolvedAt.IsZero() || open[1].Resolution != "" {
		t.Fatalf("open findings after CVE-2 came back = %+v", open)
	}
	log, _ := s.AlertLog(ctx, "", 10, 0)
	if len(log) != 2 {
		t.Fatalf("outbox has %d entries, want 2 (one per finding per route, ever)", len(log))
	}

	aff, err := s.AffectedBy(ctx, "GHSA-x")
	if err != nil || len(aff) != 1 || aff[0].Repository != "r:5000/app" || !slices.Equal(aff[0].Tags, []string{"1"}) || aff[0].Findings[0].FixedVersion != "3.1.5-r0" {
		t.Fatalf("AffectedBy(alias) = %+v, %v", aff, err)
	}
	fs, _ := s.Findings(ctx, FindingFilter{MinSeverity: "HIGH"})
	if len(fs) != 1 || fs[0].VulnID != "CVE-1" {
		t.Errorf("Findings(HIGH) = %+v", fs)
	}
	pk, _ := s.Packages(ctx, "zlib")
	if len(pk) != 1 || pk[0].Version != "1.3-r0" {
		t.Errorf("Packages = %+v", pk)
	}

	// Delivery: claim, fail, retry, send.
	es, err := s.ClaimAlerts(ctx, "d1", t0, time.Minute, 10)
	if err != nil || len(es) != 2 {
		t.Fatalf("ClaimAlerts = %+v, %v", es, err)
	}
	if err := s.AlertsFailed(ctx, "d1", []int64{es[0].ID, es[1].ID}, t0.Add(time.Minute), fmt.Errorf("503"), false); err != nil {
		t.Fatal(err)
	}
	if es2, _ := s.ClaimAlerts(ctx, "d1", t0.Add(30*time.Second), time.Minute, 10); len(es2) != 0 {
		t.Fatal("alert claimed before its retry time")
	}
	es, _ = s.ClaimAlerts(ctx, "d2", t0.Add(2*time.Minute), time.Minute, 10)
	if len(es) != 2 || es[0].Attempts != 2 {
		t.Fatalf("retry claim = %+v", es)
	}
	if err := s.AlertsSent(ctx, "d2", t0, []int64{es[0].ID, es[1].ID}); err != nil {
		t.Fatal(err)
	}
	counts, _ := s.AlertCounts(ctx)
	if counts[[2]string{"hook", AlertSent}] != 2 {
		t.Errorf("AlertCounts = %v", counts)
	}
}

func testTags(t *testing.T, s *Store) {
	ctx := context.Background()
	tag := Tag{Registry: "r:5000", Repository: "r:5000/web", Tag: "latest", Platform: "linux/amd64", Digest: "sha256:01"}
	if prev, moved, err := s.SetTag(ctx, t0, tag); err != nil || !moved || prev != "" {
		t.Fatalf("SetTag new = %q, %t, %v", prev, moved, err)
	}
	if _, moved, _ := s.SetTag(ctx, t0.Add(time.Minute), tag); moved {
		t.Error("unchanged tag reported as moved")
	}
	tag.Digest = "sha256:02"
	if prev, moved, _ := s.SetTag(ctx, t0.Add(2*time.Minute), tag); !moved || prev != "sha256:01" {
		t.Errorf("moved tag: previous = %q, moved %t", prev, moved)
	}
	cur, _ := s.CurrentTags(ctx, "r:5000")
	if got := cur[TagKey{"r:5000/web", "latest", "linux/amd64"}]; got.Digest != "sha256:02" || got.Previous != "sha256:01" {
		t.Errorf("current = %+v", got)
	}
	hist, _ := s.TagHistory(ctx, "r:5000/web")
	if len(hist) != 2 || hist[1].RemovedAt.IsZero() {
		t.Errorf("history = %+v", hist)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, dsn := range []string{"", "mysql://u:secret@h/db"} {
		_, err := Open(context.Background(), dsn)
		if err == nil {
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := Redact("postgres://vigil:s3cret@db:5432/vigil"); got != "postgres://vigil:xxxxx@db:5432/vigil" {
		t.Errorf("Redact = %q", got)
	}
}

func TestPruneJobs(t *testing.T) {
	s := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "v.db"))
	ctx := context.Background()
	s.Enqueue(ctx, t0, NewJob{Kind: JobList, Key: "list:a", Payload: "{}"}, NewJob{Kind: JobList, Key: "list:b", Payload: "{}"})
	js, _ := s.Claim(ctx, "w", t0, time.Minute, 1)
	s.Complete(ctx, js[0].ID, "w", t0)
	if n, err := s.PruneJobs(ctx, t0.Add(time.Hour)); n != 1 || err != nil {
		t.Fatalf("PruneJobs = %d, %v; want the one done job", n, err)
	}
	if pending, _ := s.Pending(ctx); !pending {
		t.Error("the queued job was pruned")
	}
}

// testConcurrentAliases: transactions of different images that record the
// same new aliases, in opposite orders, all commit (on PostgreSQL they once
// deadlocked: "store: aliases: deadlock detected").
func testConcurrentAliases(t *testing.T, s *Store) {
	ctx := context.Background()
	const rounds, workers, vulns = 8, 4, 300
	for r := range rounds {
		for w := range workers {
			img := Image{Digest: fmt.Sprintf("sha256:alias%d-%d", r, w), Registry: "r:5000", Repository: "r:5000/alias", Platform: "linux/amd64", InventoryKey: "k"}
			if err := s.SaveInventory(ctx, t0, img, &inventory.Inventory{}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var found []Finding
				for v := range vulns {
					if w%2 == 1 {
						v = vulns - 1 - v // the other order
					}
					// Aliases new to the store in each round: the rows
					// the transactions insert, and lock, alike.
					found = append(found, Finding{VulnID: fmt.Sprintf("CVE-2026-%d%04d", r, v), Aliases: []string{fmt.Sprintf("GHSA-%d-%04d", r, v)},
						PkgName: fmt.Sprintf("p%d", v), PkgVersion: "1", Target: "t", Severity: "HIGH"})
				}
				_, err := s.ApplyMatches(ctx, t0, []Matched{{Digest: fmt.Sprintf("sha256:alias%d-%d", r, w), DBDigest: "db", Found: found}}, JobsDone{})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", r, err)
			}
		}
	}
	affected, err := s.AffectedBy(ctx, "GHSA-3-0007")
	if err != nil || len(affected) != workers {
		t.Errorf("AffectedBy(GHSA-3-0007) = %d images, %v; want %d", len(affected), err, workers)
	}
}
