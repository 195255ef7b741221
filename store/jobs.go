package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Job kinds.
const (
	JobList    = "list"    // list a registry's repositories and tags
	JobPush    = "push"    // resolve one pushed tag or digest
	JobScan    = "scan"    // pull, catalogue and match one image digest
	JobRematch = "rematch" // match one stored inventory again
)

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed" // gave up after MaxAttempts
)

// Job is one unit of work.
type Job struct {
	ID       int64
	Kind     string
	Key      string
	Payload  string // JSON, the kind's own
	Attempts int    // including the current one
}

// NewJob is a job to enqueue. Key identifies the work: enqueueing a key
// that exists does nothing, so the same work is never queued twice.
type NewJob struct {
	Kind     string
	Key      string
	Payload  string
	Priority int // higher first
	RunAfter time.Time
}

// Enqueue adds the jobs whose keys are new and returns how many were.
func (s *Store) Enqueue(ctx context.Context, now time.Time, jobs ...NewJob) (int, error) {
	if len(jobs) == 0 {
		return 0, nil
	}
	n := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = s.enqueue(ctx, tx, now, jobs...)
		return err
	})
	return n, err
}

func (s *Store) enqueue(ctx context.Context, q querier, now time.Time, jobs ...NewJob) (int, error) {
	n := 0
	for _, j := range jobs {
		run := j.RunAfter
		if run.IsZero() {
			run = now
		}
		res, err := s.exec(ctx, q, `INSERT INTO jobs (kind, key, payload, priority, state, run_after, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'queued', ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
			j.Kind, j.Key, j.Payload, j.Priority, ms(run), ms(now), ms(now))
		if err != nil {
			return n, fmt.Errorf("store: enqueue %s: %w", j.Key, err)
		}
		if c, _ := res.RowsAffected(); c > 0 {
			n++
		}
	}
	return n, nil
}

// Claim leases up to limit runnable jobs to owner until now+lease: queued
// jobs due by now, and running jobs whose lease expired (their process
// died). On PostgreSQL concurrent claimers skip each other's rows (FOR
// UPDATE SKIP LOCKED); on SQLite the claim holds the write lock.
func (s *Store) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, kinds ...string) ([]Job, error) {
	var jobs []Job
	kindClause := ""
	args := []any{owner, ms(now.Add(lease)), ms(now), ms(now), ms(now)}
	if len(kinds) > 0 {
		kindClause = " AND kind IN (" + placeholders(len(kinds)) + ")"
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	args = append(args, limit)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := s.query(ctx, tx, `UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
			WHERE id IN (SELECT id FROM jobs
				WHERE ((state = 'queued' AND run_after <= ?) OR (state = 'running' AND lease_until < ?))`+kindClause+`
				ORDER BY priority DESC, run_after, id LIMIT ? {{skiplocked}})
			RETURNING id, kind, key, payload, attempts`, args...)
		if err != nil {
			return fmt.Errorf("store: claim: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var j Job
			if err := rows.Scan(&j.ID, &j.Kind, &j.Key, &j.Payload, &j.Attempts); err != nil {
				return err
			}
			jobs = append(jobs, j)
		}
		return rows.Err()
	})
	return jobs, err
}

// Extend renews owner's lease on a running job.
func (s *Store) Extend(ctx context.Context, id int64, owner string, until time.Time) error {
	_, err := s.exec(ctx, s.db, `UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'running'`, ms(until), id, owner)
	return err
}

// Complete marks a job done. It returns false when owner no longer held
// the job (its lease expired and another process took it over).
func (s *Store) Complete(ctx context.Context, id int64, owner string, now time.Time) (bool, error) {
	res, err := s.exec(ctx, s.db, `UPDATE jobs SET state = 'done', last_error = '', lease_owner = '', updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running'`, ms(now), id, owner)
	if err != nil {
		return false, fmt.Errorf("store: complete job %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Retry puts a failed job back in the queue to run at runAfter, or marks
// it failed when giveUp.
func (s *Store) Retry(ctx context.Context, id int64, owner string, now, runAfter time.Time, cause error, giveUp bool) error {
	state := JobQueued
	if giveUp {
		state = JobFailed
	}
	_, err := s.exec(ctx, s.db, `UPDATE jobs SET state = ?, run_after = ?, last_error = ?, lease_owner = '', updated_at = ? WHERE id = ? AND lease_owner = ?`,
		state, ms(runAfter), truncate(cause.Error(), 2000), ms(now), id, owner)
	if err != nil {
		return fmt.Errorf("store: retry job %d: %w", id, err)
	}
	return nil
}

// Requeue makes done or failed jobs with the given key runnable again at
// runAfter (a periodic listing, a retried image).
func (s *Store) Requeue(ctx context.Context, key string, now, runAfter time.Time) error {
	_, err := s.exec(ctx, s.db, `UPDATE jobs SET state = 'queued', attempts = 0, run_after = ?, updated_at = ? WHERE key = ? AND state IN ('done', 'failed')`,
		ms(runAfter), ms(now), key)
	return err
}

// JobCounts returns the number of jobs per kind and state.
func (s *Store) JobCounts(ctx context.Context) (map[[2]string]int, error) {
	rows, err := s.query(ctx, s.db, `SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]string]int{}
	for rows.Next() {
		var k, st string
		var n int
		if err := rows.Scan(&k, &st, &n); err != nil {
			return nil, err
		}
		out[[2]string{k, st}] = n
	}
	return out, rows.Err()
}

// Pending reports whether any job is queued or running.
func (s *Store) Pending(ctx context.Context) (bool, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')`).Scan(&n)
	return n > 0, err
}

// NextRun returns when the earliest queued job becomes due; false when no
// job is queued.
func (s *Store) NextRun(ctx context.Context) (time.Time, bool, error) {
	var v sql.NullInt64
	err := s.queryRow(ctx, s.db, `SELECT MIN(run_after) FROM jobs WHERE state = 'queued'`).Scan(&v)
	if err != nil || !v.Valid {
		return time.Time{}, false, err
	}
	return fromMS(v.Int64), true, nil
}

// FailedJob is a job that gave up, or is waiting to retry after an error.
type FailedJob struct {
	Kind, Key, State, Error string
	Attempts                int
	RunAfter, UpdatedAt     time.Time
}

// Failures lists jobs that failed or are retrying after an error.
func (s *Store) Failures(ctx context.Context, limit int) ([]FailedJob, error) {
	rows, err := s.query(ctx, s.db, `SELECT kind, key, state, last_error, attempts, run_after, updated_at FROM jobs
		WHERE last_error <> '' AND state IN ('queued', 'failed') ORDER BY updated_at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FailedJob
	for rows.Next() {
		var f FailedJob
		var run, upd int64
		if err := rows.Scan(&f.Kind, &f.Key, &f.State, &f.Error, &f.Attempts, &run, &upd); err != nil {
			return nil, err
		}
		f.RunAfter, f.UpdatedAt = fromMS(run), fromMS(upd)
		out = append(out, f)
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	b := make([]byte, 0, 2*n)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '?')
	}
	return string(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// PruneJobs deletes jobs done before before, so the table does not grow
// with every scheduled listing. It returns how many were deleted.
func (s *Store) PruneJobs(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, s.db, `DELETE FROM jobs WHERE state = 'done' AND updated_at < ?`, ms(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune jobs: %w", err)
	}
	return res.RowsAffected()
}
