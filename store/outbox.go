package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Outbox states.
const (
	AlertPending = "pending"
	AlertSending = "sending"
	AlertSent    = "sent"
	AlertParked  = "parked" // failed permanently; shown, never retried
)

func (s *Store) addAlerts(ctx context.Context, q querier, now time.Time, alerts []Alert) error {
	for _, a := range alerts {
		if _, err := s.exec(ctx, q, `INSERT INTO outbox (route, digest, finding, event, payload, state, next_try, created_at)
			VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (route, digest, finding) DO NOTHING`,
			a.Route, a.Digest, a.Finding, a.Event, a.Payload, ms(now), ms(now)); err != nil {
			return fmt.Errorf("store: outbox: %w", err)
		}
	}
	return nil
}

// AddAlerts adds outbox entries; an entry a route already has for a
// finding of an image is not added again.
func (s *Store) AddAlerts(ctx context.Context, now time.Time, alerts []Alert) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.addAlerts(ctx, tx, now, alerts) })
}

// OutboxEntry is a claimed or listed outbox row.
type OutboxEntry struct {
	ID        int64
	Route     string
	Digest    string
	Finding   string
	Event     string
	Payload   string
	State     string
	Attempts  int
	NextTry   time.Time
	LastError string
	CreatedAt time.Time
	SentAt    time.Time
}

// ClaimAlerts leases to owner up to limit due entries of one route — the
// route whose oldest entry is due first — and returns them, oldest first.
// Entries whose lease expired (a process died while sending) are due
// again.
func (s *Store) ClaimAlerts(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]OutboxEntry, error) {
	var out []OutboxEntry
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var route string
		err := s.queryRow(ctx, tx, `SELECT route FROM outbox WHERE (state = 'pending' AND next_try <= ?) OR (state = 'sending' AND lease_until < ?)
			ORDER BY next_try, id LIMIT 1`, ms(now), ms(now)).Scan(&route)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		rows, err := s.query(ctx, tx, `UPDATE outbox SET state = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE route = ? AND ((state = 'pending' AND next_try <= ?) OR (state = 'sending' AND lease_until < ?))
				ORDER BY id LIMIT ? {{skiplocked}})
			RETURNING id, route, digest, finding, event, payload, attempts, created_at`,
			owner, ms(now.Add(lease)), route, ms(now), ms(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e OutboxEntry
			var created int64
			if err := rows.Scan(&e.ID, &e.Route, &e.Digest, &e.Finding, &e.Event, &e.Payload, &e.Attempts, &created); err != nil {
				return err
			}
			e.State, e.CreatedAt = AlertSending, fromMS(created)
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim alerts: %w", err)
	}
	// RETURNING gives no order; deliver oldest first.
	sortEntries(out)
	return out, nil
}

func sortEntries(es []OutboxEntry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].ID < es[j-1].ID; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// AlertsSent marks owner's entries sent.
func (s *Store) AlertsSent(ctx context.Context, owner string, now time.Time, ids []int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := s.exec(ctx, tx, `UPDATE outbox SET state = 'sent', sent_at = ?, last_error = '', lease_owner = '' WHERE id = ? AND lease_owner = ?`, ms(now), id, owner); err != nil {
				return err
			}
		}
		return nil
	})
}

// AlertsFailed returns owner's entries to the queue for a retry at next,
// or parks them when park (a permanent failure).
func (s *Store) AlertsFailed(ctx context.Context, owner string, ids []int64, next time.Time, cause error, park bool) error {
	state := AlertPending
	if park {
		state = AlertParked
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := s.exec(ctx, tx, `UPDATE outbox SET state = ?, next_try = ?, last_error = ?, lease_owner = '' WHERE id = ? AND lease_owner = ?`,
				state, ms(next), truncate(cause.Error(), 2000), id, owner); err != nil {
				return err
			}
		}
		return nil
	})
}

// AlertLog lists outbox entries, newest first, optionally in one state.
func (s *Store) AlertLog(ctx context.Context, state string, limit, offset int) ([]OutboxEntry, error) {
	rows, err := s.query(ctx, s.db, `SELECT id, route, digest, finding, event, payload, state, attempts, next_try, last_error, created_at, sent_at FROM outbox
		WHERE CAST(? AS TEXT) = '' OR state = ? ORDER BY id DESC LIMIT ? OFFSET ?`, state, state, cmpLimit(limit), max(offset, 0))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		var next, created, sent int64
		if err := rows.Scan(&e.ID, &e.Route, &e.Digest, &e.Finding, &e.Event, &e.Payload, &e.State, &e.Attempts, &next, &e.LastError, &created, &sent); err != nil {
			return nil, err
		}
		e.NextTry, e.CreatedAt, e.SentAt = fromMS(next), fromMS(created), fromMS(sent)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AlertCounts returns the number of outbox entries per route and state.
func (s *Store) AlertCounts(ctx context.Context) (map[[2]string]int, error) {
	rows, err := s.query(ctx, s.db, `SELECT route, state, COUNT(*) FROM outbox GROUP BY route, state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]string]int{}
	for rows.Next() {
		var r, st string
		var n int
		if err := rows.Scan(&r, &st, &n); err != nil {
			return nil, err
		}
		out[[2]string{r, st}] = n
	}
	return out, rows.Err()
}
