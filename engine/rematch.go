package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-scanner/vigil/alert"
	"github.com/vigil-scanner/vigil/store"
)

// rematchBatch is how many re-match jobs a worker claims and runs at once:
// their inventories are read in one query, matched in parallel and their
// findings written in one transaction, so the store's single writer
// (SQLite) commits once per batch while the other worker's batch is
// matched.
const rematchBatch = 64

// rematchEvent names the event of the alerts a database change raises:
// they are batched into one message per route, whatever the images.
func rematchEvent(dbDigest string) string { return alert.ReasonNewAdvisory + " " + dbDigest }

// runRematches matches the stored inventories of claimed re-match jobs
// with the current database and records their findings. Reading each
// inventory, matching it and reading the image's findings to compare run
// in parallel; the batch's findings are written, and its jobs done, in one
// transaction. A job whose inventory cannot be read or matched is retried
// on its own.
func (e *Engine) runRematches(ctx context.Context, jobs []store.Job) (failed int) {
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	go e.renewLeases(jctx, ids)
	e.metrics.running.Add(int64(len(jobs)))
	defer e.metrics.running.Add(-int64(len(jobs)))
	start := time.Now()

	fail := func(j store.Job, err error) {
		failed++
		e.fail(ctx, j, err)
	}
	byDigest := map[string]store.Job{}
	var digests []string
	for _, j := range jobs {
		var p rematchPayload
		if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
			fail(j, fmt.Errorf("%w: %v", errPermanent, err))
			continue
		}
		if _, dup := byDigest[p.Digest]; dup {
			// Two databases' jobs for one image: one match does both.
			e.complete(ctx, j)
			continue
		}
		byDigest[p.Digest] = j
		digests = append(digests, p.Digest)
	}
	m, dbDigest, meta := e.db.current()
	if m == nil {
		for _, d := range digests {
			fail(byDigest[d], errors.New("no vulnerability database open"))
		}
		return failed
	}
	inputs, err := e.st.MatchInputs(jctx, digests)
	if err != nil {
		for _, d := range digests {
			fail(byDigest[d], err)
		}
		return failed
	}
	have := map[string]bool{}
	for _, in := range inputs {
		have[in.Digest] = true
	}
	var done []int64
	for _, d := range digests {
		if !have[d] {
			done = append(done, byDigest[d].ID) // removed since: nothing to match
		}
	}

	// Match in parallel: as many at once as the engine has CPU slots.
	matched := make([]*store.Matched, len(inputs))
	errs := make([]error, len(inputs))
	var wg sync.WaitGroup
	for i := range inputs {
		select {
		case e.cpu <- struct{}{}:
		case <-jctx.Done():
		}
		if jctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-e.cpu; wg.Done() }()
			in := &inputs[i]
			inv, err := in.Decode()
			if err != nil {
				errs[i] = err
				return
			}
			found, err := e.findings(jctx, inv, m)
			if err != nil {
				errs[i] = err
				return
			}
			mt := &store.Matched{Digest: in.Digest, DBDigest: dbDigest, Found: found, Resolution: "withdrawn from the database", KnownHash: in.FindingsHash}
			// What the transaction compares with, read here, on every
			// core, rather than under the store's write lock.
			if err := e.st.ReadFindings(jctx, mt); err != nil {
				errs[i] = err
				return
			}
			matched[i] = mt
			matched[i].AlertsFor = func(ch store.Change) ([]store.Alert, error) {
				return e.alertsFor(jctx, in.Digest, alert.ReasonNewAdvisory, rematchEvent(dbDigest), ch, nil)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return failed // shutting down: the leases expire and the jobs run again
	}
	var apply []store.Matched
	for i, mt := range matched {
		j := byDigest[inputs[i].Digest]
		if errs[i] != nil {
			fail(j, fmt.Errorf("re-matching %s: %w", inputs[i].Digest, errs[i]))
			continue
		}
		apply = append(apply, *mt)
		done = append(done, j.ID)
	}
	changes, err := e.st.ApplyMatches(ctx, e.opts.Now(), apply, store.JobsDone{Owner: e.opts.Owner, IDs: done})
	if err != nil && len(apply) > 1 && ctx.Err() == nil {
		// Nothing was written. One image's findings may be what the store
		// refuses: each is applied on its own, so only its job fails.
		e.log.Warn("could not record a batch of re-matches; recording them one by one", "images", len(apply), "err", err)
		changes, err = nil, nil
		if _, derr := e.st.ApplyMatches(ctx, e.opts.Now(), nil, store.JobsDone{Owner: e.opts.Owner, IDs: done[:len(done)-len(apply)]}); derr != nil {
			e.log.Error("could not complete jobs", "err", derr)
		}
		var ok []store.Matched
		for _, mt := range apply {
			j := byDigest[mt.Digest]
			ch, err := e.st.ApplyMatches(ctx, e.opts.Now(), []store.Matched{mt}, store.JobsDone{Owner: e.opts.Owner, IDs: []int64{j.ID}})
			if err != nil {
				fail(j, err)
				continue
			}
			ok = append(ok, mt)
			changes = append(changes, ch...)
		}
		apply = ok
	}
	if err != nil {
		// Nothing was written: every job of the batch is tried again.
		for _, mt := range apply {
			fail(byDigest[mt.Digest], err)
		}
		return failed
	}
	elapsed := time.Since(start)
	appeared, disappeared := 0, 0
	for _, ch := range changes {
		appeared += len(ch.New)
		disappeared += len(ch.Resolved)
	}
	for range apply {
		e.metrics.observe(store.JobRematch, elapsed/time.Duration(len(apply)))
	}
	if appeared+disappeared > 0 {
		if err := e.st.RecordDBChange(ctx, e.opts.Now(), dbDigest, meta.BuiltAt, appeared, disappeared); err != nil {
			e.log.Error("could not record what the database change did", "err", err)
		}
	}
	if cur := e.db.digest(); cur != dbDigest {
		// The database changed while these were matched.
		if err := e.enqueueRematch(ctx); err != nil {
			e.log.Error("could not queue re-matches", "err", err)
		}
	}
	return failed
}

// renewLeases extends the leases of running jobs until ctx is done.
func (e *Engine) renewLeases(ctx context.Context, ids []int64) {
	t := time.NewTicker(e.opts.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.st.ExtendJobs(ctx, ids, e.opts.Owner, e.opts.Now().Add(e.opts.Lease)); err != nil && ctx.Err() == nil {
				e.log.Warn("could not renew job leases", "jobs", len(ids), "err", err)
			}
		}
	}
}
