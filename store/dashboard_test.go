package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/inventory"
)

func TestDashboard(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("counts", func(t *testing.T) { testCounts(t, open(t)) })
			t.Run("trend", func(t *testing.T) { testTrend(t, open(t)) })
			t.Run("sessions", func(t *testing.T) { testSessions(t, open(t)) })
		})
	}
}

// addImage stores an image tagged repo:tag with findings "ID SEVERITY
// FIXED KEV" (FIXED "-" for none, KEV "kev" or "-"), matched at now.
func addImage(t *testing.T, s *Store, now time.Time, digest, repo, tag string, findings ...string) {
	t.Helper()
	ctx := context.Background()
	reg := repo[:len("r:5000")]
	inv := &inventory.Inventory{Results: []inventory.Result{{Target: "alpine 3.19", Class: "os-pkgs", Type: "apk"}}}
	if err := s.SaveInventory(ctx, now, Image{Digest: digest, Registry: reg, Repository: repo}, inv); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SetTag(ctx, now, Tag{Registry: reg, Repository: repo, Tag: tag, Platform: "linux/amd64", Digest: digest}); err != nil {
		t.Fatal(err)
	}
	var fs []Finding
	for _, f := range findings {
		var id, sev, fixed, kev string
		fmt.Sscan(f, &id, &sev, &fixed, &kev)
		if fixed == "-" {
			fixed = ""
		}
		fs = append(fs, Finding{VulnID: id, PkgName: "p-" + id, PkgVersion: "1", Target: "alpine 3.19", Severity: sev, FixedVersion: fixed, KEV: kev == "kev"})
	}
	if _, err := s.ApplyFindings(ctx, now, digest, "db1", fs, "withdrawn", nil); err != nil {
		t.Fatal(err)
	}
}

func testCounts(t *testing.T, s *Store) {
	ctx := context.Background()
	addImage(t, s, t0, "sha256:a1", "r:5000/app", "1", "CVE-1 CRITICAL 2 kev", "CVE-2 HIGH - -", "CVE-3 LOW 1 -")
	addImage(t, s, t0, "sha256:a2", "r:5000/app", "2", "CVE-2 HIGH - -")
	addImage(t, s, t0, "sha256:b1", "r:5000/web", "latest", "CVE-4 MEDIUM 3 -", "CVE-5 SEVERE - -")
	// The same image under a second tag and repository.
	if _, _, err := s.SetTag(ctx, t0, Tag{Registry: "r:5000", Repository: "r:5000/web", Tag: "old", Platform: "linux/amd64", Digest: "sha256:a2"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RefreshCounts(ctx); err != nil || n != 3 {
		t.Fatalf("RefreshCounts = %d, %v; want 3 images counted", n, err)
	}
	if n, err := s.RefreshCounts(ctx); err != nil || n != 0 {
		t.Fatalf("second RefreshCounts = %d, %v; want nothing to recount", n, err)
	}
	sum, err := s.Summarize(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Critical: 1, High: 2, Medium: 1, Low: 1, Unknown: 1, Fixable: 3, KEV: 1}
	if sum.Images != 3 || sum.Counts != want {
		t.Errorf("totals = %d images %+v, want 3 %+v", sum.Images, sum.Counts, want)
	}
	if len(sum.Registries) != 1 || sum.Registries[0].Images != 3 || sum.Registries[0].Repositories != 2 || sum.Registries[0].Counts != want {
		t.Errorf("registries = %+v", sum.Registries)
	}
	got := map[string]RepositorySummary{}
	for _, r := range sum.Repositories {
		got[r.Name] = r
	}
	if r := got["r:5000/app"]; r.Tags != 2 || r.Images != 2 || r.Counts != (Counts{Critical: 1, High: 2, Low: 1, Fixable: 2, KEV: 1}) {
		t.Errorf("app = %+v", r)
	}
	if r := got["r:5000/web"]; r.Tags != 2 || r.Images != 2 || r.Counts != (Counts{High: 1, Medium: 1, Unknown: 1, Fixable: 1}) {
		t.Errorf("web = %+v", r)
	}

	// A re-match that withdraws CVE-1, and a resolution without a match
	// (a rebuilt tag), are both recounted.
	if _, err := s.ApplyFindings(ctx, t0.Add(time.Minute), "sha256:a1", "db2", []Finding{
		{VulnID: "CVE-2", PkgName: "p-CVE-2", PkgVersion: "1", Target: "alpine 3.19", Severity: "HIGH"},
		{VulnID: "CVE-3", PkgName: "p-CVE-3", PkgVersion: "1", Target: "alpine 3.19", Severity: "LOW", FixedVersion: "1"},
	}, "withdrawn", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.ResolveFindings(ctx, t0.Add(2*time.Minute), "sha256:b1", []string{"CVE-4 p-CVE-4 1 alpine 3.19"}, "fixed in sha256:b2"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RefreshCounts(ctx); err != nil || n != 2 {
		t.Fatalf("RefreshCounts after changes = %d, %v; want 2", n, err)
	}
	if c, _ := s.ImageCounts(ctx, "sha256:a1"); c != (Counts{High: 1, Low: 1, Fixable: 1}) {
		t.Errorf("a1 after withdrawal = %+v", c)
	}
	if c, _ := s.ImageCounts(ctx, "sha256:b1"); c != (Counts{Unknown: 1}) {
		t.Errorf("b1 after resolution = %+v", c)
	}

	imgs, total, err := s.RankImages(ctx, RankFilter{Size: 2})
	if err != nil || total != 3 || len(imgs) != 2 {
		t.Fatalf("RankImages = %d of %d, %v", len(imgs), total, err)
	}
	if imgs[0].Digest != "sha256:a1" || imgs[1].Digest != "sha256:a2" || !slices.Equal(imgs[1].Tags, []string{"r:5000/app:2", "r:5000/web:old"}) {
		t.Errorf("ranked = %+v", imgs)
	}
	imgs, total, _ = s.RankImages(ctx, RankFilter{Repository: "r:5000/web", Offset: 1, Size: 10})
	if total != 2 || len(imgs) != 1 || imgs[0].Digest != "sha256:b1" {
		t.Errorf("ranked web page 2 = %+v of %d", imgs, total)
	}
	fs, _ := s.FindingsOf(ctx, "sha256:a1")
	if len(fs) != 3 || fs[0].VulnID != "CVE-2" || fs[2].VulnID != "CVE-1" || fs[2].ResolvedAt.IsZero() {
		t.Errorf("FindingsOf = %+v (open first, most severe first)", fs)
	}
}

func testTrend(t *testing.T, s *Store) {
	ctx := context.Background()
	day := func(n int) time.Time {
		return t0.Truncate(24 * time.Hour).Add(time.Duration(n)*24*time.Hour + 10*time.Hour)
	}
	// Day 0: a1 with two findings. Day 1: one fixed by a re-match.
	// Day 2: b1 appears. Day 3: a1's tag moves away (to a3, clean).
	addImage(t, s, day(0), "sha256:a1", "r:5000/app", "1", "CVE-1 HIGH 2 -", "CVE-2 LOW - -")
	if _, err := s.ApplyFindings(ctx, day(1), "sha256:a1", "db2", []Finding{
		{VulnID: "CVE-2", PkgName: "p-CVE-2", PkgVersion: "1", Target: "alpine 3.19", Severity: "LOW"}}, "withdrawn", nil); err != nil {
		t.Fatal(err)
	}
	addImage(t, s, day(2), "sha256:b1", "r:5000/web", "1", "CVE-3 CRITICAL 1 kev")
	addImage(t, s, day(3), "sha256:a3", "r:5000/app", "1")

	got, err := s.Trend(ctx, day(4), 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []Counts{
		{High: 1, Low: 1, Fixable: 1},
		{Low: 1},
		{Critical: 1, Low: 1, Fixable: 1, KEV: 1},
		{Critical: 1, Fixable: 1, KEV: 1},
	}
	wantImages := []int{1, 1, 2, 2}
	if len(got) != 4 {
		t.Fatalf("Trend = %+v, want 4 reconstructed days (today not recorded)", got)
	}
	for i, d := range got {
		if d.Counts != want[i] || d.Images != wantImages[i] || d.Recorded || !d.Day.Equal(day(i).Truncate(24*time.Hour)) {
			t.Errorf("day %d = %+v, want %+v with %d images", i, d, want[i], wantImages[i])
		}
	}
	// Recorded today; reconstructed days stay as they were.
	if err := s.RecordDay(ctx, day(4), 2, Counts{Critical: 1}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Trend(ctx, day(4), 4)
	if len(got) != 5 || !got[4].Recorded || got[4].Counts != (Counts{Critical: 1}) || got[0].Counts != want[0] {
		t.Errorf("Trend with today = %+v", got)
	}
}

func testSessions(t *testing.T, s *Store) {
	ctx := context.Background()
	if err := s.CreateSession(ctx, t0, "id-1", Session{Token: "tok", Name: "ci", Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if sess, err := s.LookupSession(ctx, t0.Add(time.Minute), "id-1"); err != nil || sess.Name != "ci" || sess.Token != "tok" {
		t.Fatalf("LookupSession = %+v, %v", sess, err)
	}
	if _, err := s.LookupSession(ctx, t0, "id-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown session: %v", err)
	}
	if _, err := s.LookupSession(ctx, t0.Add(2*time.Hour), "id-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session: %v", err)
	}
	var stored string
	s.db.QueryRowContext(ctx, "SELECT id_hash FROM sessions").Scan(&stored)
	if stored == "id-1" || stored == "" {
		t.Errorf("the session id is stored as %q, want its hash", stored)
	}
	if err := s.DeleteSession(ctx, "id-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupSession(ctx, t0, "id-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted session: %v", err)
	}
}

// TestSummaryStamp: the stamp changes with the tags, the counts and the
// listings, on both backends.
func TestSummaryStamp(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			stamps := map[string]string{}
			stamp := func(step string) {
				t.Helper()
				st, err := s.SummaryStamp(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for prev, v := range stamps {
					if v == st {
						t.Errorf("stamp after %s = stamp after %s (%s)", step, prev, st)
					}
				}
				stamps[step] = st
			}
			stamp("nothing")
			if _, _, err := s.SetTag(ctx, t0, Tag{Registry: "r", Repository: "r/app", Tag: "1", Digest: "sha256:a"}); err != nil {
				t.Fatal(err)
			}
			stamp("a tag")
			if err := s.SaveInventory(ctx, t0, Image{Digest: "sha256:a", Registry: "r", Repository: "r/app"}, &inventory.Inventory{}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApplyFindings(ctx, t0, "sha256:a", "db", []Finding{{VulnID: "CVE-1", PkgName: "p", PkgVersion: "1", Target: "t", Severity: "HIGH"}}, "", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RefreshCounts(ctx); err != nil {
				t.Fatal(err)
			}
			stamp("counts")
			if err := s.RecordListing(ctx, t0, Registry{URL: "r"}); err != nil {
				t.Fatal(err)
			}
			stamp("a listing")
		})
	}
}
