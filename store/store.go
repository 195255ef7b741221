// Package store keeps what the vigil server knows, in SQLite (the default,
// a file, nothing to install) or PostgreSQL (to run several servers on one
// database): for every image digest the repository:tags that pointed at
// it and when, its platform and compressed inventory with the vigil build
// and cataloger set that produced it, and each finding with when it was
// first seen, last seen and resolved; the job queue (scans, re-matches,
// registry listings) with leases; and the alert outbox.
//
// Both backends share one schema and one set of versioned migrations
// (migrations.go); the SQL differs only where the dialects do (dialect.go).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// Store is an open store. It is safe for concurrent use, and several
// processes may share one (PostgreSQL: any number; SQLite: on one machine).
type Store struct {
	db *sql.DB
	d  dialect
	// wmu serialises this process's SQLite writers, so they queue here
	// instead of in SQLite's sleeping busy handler (other processes still
	// wait there). Unused on PostgreSQL.
	wmu sync.Mutex
}

// Open opens the store named by dsn and brings its schema up to date:
//
//	sqlite:///var/lib/vigil/vigil.db   a SQLite file (created when absent)
//	/var/lib/vigil/vigil.db            the same
//	postgres://user:pass@host/db       PostgreSQL (postgresql:// too)
func Open(ctx context.Context, dsn string) (*Store, error) {
	s, err := open(dsn)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

func open(dsn string) (*Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", Redact(dsn), err)
		}
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(8)
		return &Store{db: db, d: postgres}, nil
	case dsn == "":
		return nil, errors.New("store: no store given")
	}
	path := strings.TrimPrefix(dsn, "sqlite://")
	if strings.Contains(path, "://") {
		return nil, fmt.Errorf("store: %q: want sqlite:///PATH or postgres://…", Redact(dsn))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// WAL lets readers go on while one writer writes; every transaction
	// takes the write lock when it begins (_txlock=immediate), so a
	// transaction that reads then writes — claiming a job — is atomic
	// among processes, and busy_timeout makes the others wait their turn.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(30000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	return &Store{db: db, d: sqlite}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Backend names the backend: "sqlite" or "postgres".
func (s *Store) Backend() string { return s.d.name }

// Ping checks that the store answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Redact returns dsn with any password replaced by "xxxxx", for messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// tx runs fn in a transaction, committing when it returns nil. On SQLite
// the transaction holds the write lock from its start.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.d.name == "sqlite" {
		s.wmu.Lock()
		defer s.wmu.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	if q == s.db && s.d.name == "sqlite" {
		s.wmu.Lock()
		defer s.wmu.Unlock()
	}
	return q.ExecContext(ctx, s.d.rebind(query), args...)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return q.QueryContext(ctx, s.d.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, s.d.rebind(query), args...)
}

// ms is t in Unix milliseconds, the form every time is stored in; the zero
// time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
