// Package engine is the registry watch that `vigil server` runs
// continuously and `vigil watch` runs one cycle of: it lists registries on
// a schedule and on push notifications, scans each new image digest once,
// keeps inventories and findings in the store, re-matches every stored
// inventory when the vulnerability database changes, and delivers each new
// finding once per alert route through the store's outbox.
//
// All work goes through the store's job queue, so several processes on one
// PostgreSQL store share it and a process killed mid-job loses nothing:
// its lease expires and another process does the job again, idempotently.
package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/robfig/cron/v3"

	"github.com/vigil-scanner/vigil/alert"
	"github.com/vigil-scanner/vigil/evaluate"
	"github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/layerfs"
	"github.com/vigil-scanner/vigil/policy"
	"github.com/vigil-scanner/vigil/registry"
	"github.com/vigil-scanner/vigil/store"
)

// Registry is one watched registry.
type Registry struct {
	// Host is "host[:port]".
	Host   string
	Access remote.Access
	// Repositories are globs choosing repositories from the catalog
	// (internal/glob; "*" alone means every repository); empty means all.
	Repositories []string
	// List names the repositories to watch when the registry's catalog
	// is disabled; the catalog is then not read.
	List []string
	// Exclude are globs of repositories not to watch.
	Exclude []string
	// Tags chooses the tags of each repository.
	Tags TagFilter
	// Platforms are scanned in multi-platform images; empty means
	// linux/amd64.
	Platforms []v1.Platform
	// Interval or Schedule (a cron expression) say when to list; with
	// neither, the registry is listed only on demand and on pushes.
	Interval time.Duration
	Schedule cron.Schedule
	// PageSize asks for this many repositories or tags per page.
	PageSize int
}

// Route is an alert destination.
type Route struct {
	// Name identifies the route in the outbox; it must stay the same
	// across restarts for alerts not to be sent again.
	Name   string
	Route  alert.Route
	Sender alert.Sender
}

// Options configure an Engine.
type Options struct {
	Store      *store.Store
	Registries []Registry
	Routes     []Route
	// DBPath is the vulnerability database directory. It is checked
	// every DBCheck (default 10s: a stat of its index, which is read only
	// when it changed) and re-read when its content changes.
	DBPath  string
	DBCheck time.Duration
	// RefreshDB, when set, is called every DBRefresh (default 1h) to
	// update the database in place (vigil db update); nil never
	// downloads.
	RefreshDB func(ctx context.Context) error
	DBRefresh time.Duration
	// Policy filters the findings that are stored and alerted on (ignore
	// file, VEX, severities); nil keeps every finding.
	Policy *policy.Policy
	// Cache keeps what was read from each layer, so layers shared
	// between images are read once. Optional.
	Cache layerfs.Cache
	// Workers is the number of jobs run at once; zero means 2.
	Workers int
	// Owner names this process in job leases; empty means host and pid.
	Owner string
	// Lease is how long a claimed job is reserved before another process
	// may take it over; zero means 2 minutes. Leases are renewed while a
	// job runs.
	Lease time.Duration
	// AlertBatch bounds the alerts of one message; zero means 500.
	AlertBatch int
	// Logger receives progress and errors; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Backoff returns the pause before retry n (1-based) of a failed job
	// or delivery; nil means 10s·4ⁿ⁻¹ up to an hour, with jitter.
	Backoff func(n int) time.Duration
	// MaxAttempts is the number of tries of a job before it is marked
	// failed (a failed scan is tried again at the registry's next
	// listing); zero means 5.
	MaxAttempts int
}

// Engine runs the watch.
type Engine struct {
	opts    Options
	st      *store.Store
	log     *slog.Logger
	clients map[string]*registry.Client
	regs    map[string]*Registry
	routes  map[string]*Route
	key     string // scan.InventoryKey
	db      dbState
	metrics Metrics
	wake    chan struct{}
}

// New checks opts and returns an engine; nothing runs until Run or Once.
func New(opts Options) (*Engine, error) {
	if opts.Store == nil {
		return nil, errors.New("engine: no store")
	}
	if opts.DBPath == "" {
		return nil, errors.New("engine: no vulnerability database path")
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatUint(rand.Uint64()%1e6, 10)
	}
	opts.Lease = cmp.Or(opts.Lease, 2*time.Minute)
	opts.DBCheck = cmp.Or(opts.DBCheck, 10*time.Second)
	opts.DBRefresh = cmp.Or(opts.DBRefresh, time.Hour)
	opts.AlertBatch = cmp.Or(opts.AlertBatch, 500)
	opts.MaxAttempts = cmp.Or(opts.MaxAttempts, 5)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Backoff == nil {
		opts.Backoff = defaultBackoff
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{opts: opts, st: opts.Store, log: log, clients: map[string]*registry.Client{}, regs: map[string]*Registry{},
		routes: map[string]*Route{}, key: inventoryKey(), wake: make(chan struct{}, 1)}
	for i := range opts.Registries {
		r := &opts.Registries[i]
		if _, dup := e.regs[r.Host]; dup {
			return nil, fmt.Errorf("engine: registry %s configured twice", r.Host)
		}
		if len(r.Platforms) == 0 {
			r.Platforms = []v1.Platform{{OS: "linux", Architecture: "amd64"}}
		}
		c, err := registry.New(r.Host, r.Access, registry.Options{PageSize: r.PageSize, Logger: log})
		if err != nil {
			return nil, err
		}
		e.clients[r.Host], e.regs[r.Host] = c, r
	}
	for i := range opts.Routes {
		r := &opts.Routes[i]
		if r.Name == "" {
			return nil, fmt.Errorf("engine: alert route %d has no name", i+1)
		}
		if _, dup := e.routes[r.Name]; dup {
			return nil, fmt.Errorf("engine: two alert routes named %q", r.Name)
		}
		e.routes[r.Name] = r
	}
	return e, nil
}

func defaultBackoff(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 4
	}
	d = min(d, time.Hour)
	return d + rand.N(d/4+1)
}

// Metrics returns the engine's counters.
func (e *Engine) Metrics() *Metrics { return &e.metrics }

// Store returns the engine's store.
func (e *Engine) Store() *store.Store { return e.st }

// Registries returns the configured registries' hosts and their clients'
// rate-limit counts.
func (e *Engine) RateLimited() map[string]int64 {
	out := map[string]int64{}
	for h, c := range e.clients {
		out[h] = c.RateLimited()
	}
	return out
}

// Run runs until ctx is done: the schedule, the database watch, the job
// workers and the alert delivery.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.checkDB(ctx); err != nil {
		return err
	}
	e.enqueueStale(ctx)
	var wg sync.WaitGroup
	loop := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	loop(e.scheduleLoop)
	loop(e.dbLoop)
	for range e.opts.Workers {
		loop(e.workLoop)
	}
	loop(e.deliverLoop)
	wg.Wait()
	e.db.close()
	return nil
}

// Summary says what Once did.
type Summary struct {
	Jobs          int // jobs run
	Failed        int // jobs that failed (and will be retried)
	AlertsSent    int
	AlertsFailed  int
	DBDigest      string
	ListingErrors []string
}

// Once runs one cycle: check the database, list every registry now, run
// every job that is due until none is left, and deliver the alerts. It is
// `vigil watch`.
func (e *Engine) Once(ctx context.Context) (Summary, error) {
	defer e.db.close()
	if err := e.checkDB(ctx); err != nil {
		return Summary{}, err
	}
	e.enqueueStale(ctx)
	now := e.opts.Now()
	var jobs []store.NewJob
	for _, r := range e.opts.Registries {
		jobs = append(jobs, listJob(r.Host, "once:"+strconv.FormatInt(now.UnixNano(), 10)))
	}
	if _, err := e.st.Enqueue(ctx, now, jobs...); err != nil {
		return Summary{}, err
	}
	var sum Summary
	for {
		n, failed, err := e.runDue(ctx, e.opts.Workers)
		if err != nil {
			return sum, err
		}
		sum.Jobs += n
		sum.Failed += failed
		if n == failed {
			break // nothing left, or only jobs failing again at once
		}
	}
	for {
		sent, failed, err := e.deliverDue(ctx)
		if err != nil {
			return sum, err
		}
		sum.AlertsSent += sent
		sum.AlertsFailed += failed
		if sent == 0 {
			break // nothing left, or a route failing: it waits for the next cycle
		}
	}
	sum.DBDigest = e.db.digest()
	regs, _ := e.st.Registries(ctx)
	for _, r := range regs {
		if r.LastError != "" {
			sum.ListingErrors = append(sum.ListingErrors, r.URL+": "+r.LastError)
		}
	}
	return sum, nil
}

// poke wakes the workers (work was queued).
func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// workLoop claims and runs jobs until ctx is done.
func (e *Engine) workLoop(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := e.runBatch(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Error("job queue", "err", err)
		}
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-e.wake:
		case <-time.After(time.Second):
		}
	}
}

// rematchBatch is how many re-match jobs a worker claims at once: each
// takes milliseconds, so claiming them one by one would cost more than
// running them.
const rematchBatch = 16

// runBatch claims the most urgent due job and runs it; when it is a
// re-match, more re-matches are claimed and run with it, one after the
// other.
func (e *Engine) runBatch(ctx context.Context) (int, error) {
	jobs, err := e.st.Claim(ctx, e.opts.Owner, e.opts.Now(), e.opts.Lease, 1)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	if jobs[0].Kind == store.JobRematch {
		more, err := e.st.Claim(ctx, e.opts.Owner, e.opts.Now(), e.opts.Lease, rematchBatch-1, store.JobRematch)
		if err != nil {
			e.log.Warn("could not claim more re-matches", "err", err)
		}
		jobs = append(jobs, more...)
	}
	for _, j := range jobs {
		e.run(ctx, j)
	}
	return len(jobs), nil
}

// runDue claims up to n due jobs and runs them concurrently; it returns
// how many ran and how many of those failed.
func (e *Engine) runDue(ctx context.Context, n int) (ran, failed int, err error) {
	jobs, err := e.st.Claim(ctx, e.opts.Owner, e.opts.Now(), e.opts.Lease, n)
	if err != nil || len(jobs) == 0 {
		return 0, 0, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !e.run(ctx, j) {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(jobs), failed, nil
}

// run runs one claimed job, renewing its lease while it runs, and records
// the outcome. It reports whether the job succeeded.
func (e *Engine) run(ctx context.Context, j store.Job) bool {
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		t := time.NewTicker(e.opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-jctx.Done():
				return
			case <-t.C:
				if err := e.st.Extend(jctx, j.ID, e.opts.Owner, e.opts.Now().Add(e.opts.Lease)); err != nil && jctx.Err() == nil {
					e.log.Warn("could not renew job lease", "job", j.Key, "err", err)
				}
			}
		}
	}()
	e.metrics.running.Add(1)
	start := time.Now()
	err := e.dispatch(jctx, j)
	e.metrics.running.Add(-1)
	e.metrics.observe(j.Kind, time.Since(start))
	cancel()
	now := e.opts.Now()
	if ctx.Err() != nil {
		return false // shutting down: the lease expires and the job runs again
	}
	if err == nil {
		if _, cerr := e.st.Complete(ctx, j.ID, e.opts.Owner, now); cerr != nil {
			e.log.Error("could not complete job", "job", j.Key, "err", cerr)
		}
		return true
	}
	e.metrics.failed.Add(1)
	giveUp := j.Attempts >= e.opts.MaxAttempts || errors.Is(err, errPermanent)
	e.log.Error("job failed", "job", j.Key, "attempt", j.Attempts, "retry", !giveUp, "err", err)
	wait := e.opts.Backoff(j.Attempts)
	if j.Kind == store.JobPush {
		// A push is retried soon: the registry may not serve it yet.
		wait = min(wait, time.Duration(j.Attempts)*2*time.Second)
	}
	if rerr := e.st.Retry(ctx, j.ID, e.opts.Owner, now, now.Add(wait), err, giveUp); rerr != nil {
		e.log.Error("could not record job failure", "job", j.Key, "err", rerr)
	}
	return false
}

// errPermanent marks job errors that retrying cannot fix.
var errPermanent = errors.New("permanent")

func (e *Engine) dispatch(ctx context.Context, j store.Job) error {
	switch j.Kind {
	case store.JobList:
		return e.runList(ctx, j)
	case store.JobPush:
		return e.runPush(ctx, j)
	case store.JobScan:
		return e.runScan(ctx, j)
	case store.JobRematch:
		return e.runRematch(ctx, j)
	}
	return fmt.Errorf("%w: unknown job kind %q", errPermanent, j.Kind)
}

// scheduleLoop enqueues each registry's listing when its schedule says.
// The job key names the slot, so servers sharing a store list once.
func (e *Engine) scheduleLoop(ctx context.Context) {
	next := map[string]time.Time{}
	var pruned time.Time
	for ctx.Err() == nil {
		now := e.opts.Now()
		if now.Sub(pruned) > time.Hour {
			// Done jobs are kept a day, for the status and metrics.
			if n, err := e.st.PruneJobs(ctx, now.Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
				e.log.Warn("could not prune done jobs", "err", err)
			} else if n > 0 {
				e.log.Debug("pruned done jobs", "jobs", n)
			}
			pruned = now
		}
		var jobs []store.NewJob
		for _, r := range e.opts.Registries {
			var slot time.Time
			switch {
			case r.Schedule != nil:
				if n, ok := next[r.Host]; !ok {
					slot = now // list at start, then on schedule
					next[r.Host] = r.Schedule.Next(now)
				} else if !now.Before(n) {
					slot = n
					next[r.Host] = r.Schedule.Next(now)
				}
			case r.Interval > 0:
				s := now.Truncate(r.Interval)
				if n, ok := next[r.Host]; !ok || !s.Before(n) {
					slot = s
					next[r.Host] = s.Add(r.Interval)
				}
			}
			if !slot.IsZero() {
				jobs = append(jobs, listJob(r.Host, strconv.FormatInt(slot.UnixMilli(), 10)))
			}
		}
		if len(jobs) > 0 {
			if _, err := e.st.Enqueue(ctx, now, jobs...); err != nil && ctx.Err() == nil {
				e.log.Error("could not schedule listings", "err", err)
			}
			e.poke()
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// Evaluate matches an inventory with the engine's database, without its
// policy (the caller applies its own), for uploads and client mode.
func (e *Engine) Evaluate(ctx context.Context, inv *inventory.Inventory) (*evaluate.Result, error) {
	m, _, _ := e.db.current()
	if m == nil {
		return nil, errors.New("no vulnerability database open")
	}
	return evaluate.Evaluate(ctx, inv, evaluate.Options{Matcher: m})
}
