package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/robfig/cron/v3"

	"github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
	"github.com/vigil-scanner/vigil/store"
)

// TestNewestByPushTime: "the newest N tags by push time" keeps the tags
// whose images were created last, read from each image's config, whatever
// their names and the order they were pushed in; the next listing of the
// unchanged repository downloads nothing.
func TestNewestByPushTime(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{Proxy: true})
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	created := map[string]time.Time{
		"zeta":   base,                     // oldest, pushed last
		"alpha":  base.Add(48 * time.Hour), // newest
		"v9.9.9": base.Add(24 * time.Hour), // second newest: a higher semver does not count
		"beta":   base.Add(time.Hour),
	}
	digests := map[string]string{}
	for _, tag := range []string{"alpha", "v9.9.9", "beta", "zeta"} {
		img := regtest.Image(t, openssl, "etc/tag="+tag)
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cfg = cfg.DeepCopy()
		cfg.Created = v1.Time{Time: created[tag]}
		if img, err = mutate.ConfigFile(img, cfg); err != nil {
			t.Fatal(err)
		}
		digests[tag] = reg.PushImage(t, "app:"+tag, img)
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "db")
	regtest.WriteDB(t, dbPath, db1...)
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	regs := []Registry{{Host: reg.ProxyHost, Access: remote.Access{Insecure: true}, Tags: TagFilter{Newest: 2, By: ByPushed}}}
	if _, err := newEngine(t, st, dbPath, regs).Once(ctx); err != nil {
		t.Fatal(err)
	}
	tags, err := st.CurrentTags(ctx, reg.ProxyHost)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for k, tg := range tags {
		got = append(got, k.Tag)
		if tg.Digest != digests[k.Tag] {
			t.Errorf("tag %s names %s, want %s", k.Tag, tg.Digest, digests[k.Tag])
		}
	}
	slices.Sort(got)
	if want := []string{"alpha", "v9.9.9"}; !slices.Equal(got, want) {
		t.Errorf("tags kept = %q, want the newest two by creation time %q", got, want)
	}
	for tag, d := range digests {
		_, err := st.Image(ctx, d)
		if scanned := err == nil; scanned != (tag == "alpha" || tag == "v9.9.9") {
			t.Errorf("image of %s scanned = %v", tag, scanned)
		}
	}
	// The kept tags' creation times are known: the next listing reads
	// the configs of the two others only.
	reg.ResetCounts()
	if _, err := newEngine(t, st, dbPath, regs).Once(ctx); err != nil {
		t.Fatal(err)
	}
	if get, _ := reg.Count(regtest.Blob); get > 2 {
		t.Errorf("an unchanged listing downloaded %d blobs (configs)", get)
	}
}

// clock is a settable clock for the engine.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// TestCronSchedule runs the engine's scheduler against a clock the test
// moves: a registry with schedule "*/15 * * * *" is listed at start, then
// once in each quarter hour the clock enters, never in between; one with
// an interval is listed once per interval.
func TestCronSchedule(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sched, err := cron.ParseStandard("*/15 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 5, 4, 10, 7, 30, 0, time.UTC)}
	e, err := New(Options{Store: st, DBPath: filepath.Join(dir, "db"), Now: c.Now, Registries: []Registry{
		{Host: "cron.example:5000", Schedule: sched},
		{Host: "interval.example:5000", Interval: 10 * time.Minute},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.scheduleLoop(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	listings := func() map[string][]string {
		t.Helper()
		jobs, err := st.Jobs(ctx, store.JobList, store.JobQueued, 100)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, j := range jobs {
			var p listPayload
			if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
				t.Fatal(err)
			}
			out[p.Registry] = append(out[p.Registry], j.Key)
		}
		return out
	}
	// step moves the clock and waits for the scheduler to look at it
	// (it looks every second) and queue what it should.
	step := func(to string, cronWant, intervalWant int) {
		t.Helper()
		tm, err := time.Parse("15:04:05", to)
		if err != nil {
			t.Fatal(err)
		}
		c.set(time.Date(2026, 5, 4, tm.Hour(), tm.Minute(), tm.Second(), 0, time.UTC))
		deadline := time.Now().Add(10 * time.Second)
		for {
			l := listings()
			if len(l["cron.example:5000"]) == cronWant && len(l["interval.example:5000"]) == intervalWant {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("at %s: listings %q, want %d cron and %d interval", to, l, cronWant, intervalWant)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(1500 * time.Millisecond) // another look: nothing more
		if l := listings(); len(l["cron.example:5000"]) != cronWant || len(l["interval.example:5000"]) != intervalWant {
			t.Fatalf("at %s: listings %q, want %d cron and %d interval", to, l, cronWant, intervalWant)
		}
	}
	step("10:07:30", 1, 1) // at start, both
	step("10:14:59", 1, 2) // the interval's 10:10 slot; not yet the quarter
	step("10:15:00", 2, 2) // the quarter hour
	step("10:29:00", 2, 3) // 10:20
	step("10:47:10", 3, 4) // one listing for the quarters passed (10:30, 10:45), one for 10:40
}
