package store

import (
	"context"
	"fmt"
)

// Optimize lets the query planner learn the store's data: on SQLite it
// runs PRAGMA optimize (ANALYZE where the statistics are missing or stale,
// reading at most a bounded sample of each index), without which SQLite
// may pick an index that matches nearly every finding; PostgreSQL's
// autovacuum analyzes by itself, so there it does nothing. It is cheap
// when nothing changed; call it now and then (hourly) on a long-running
// process.
func (s *Store) Optimize(ctx context.Context) error {
	if s.d.name != "sqlite" {
		return nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: optimize: %w", err)
	}
	defer conn.Close()
	for _, q := range []string{"PRAGMA analysis_limit = 1000", "PRAGMA optimize = 0x10002"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: optimize: %w", err)
		}
	}
	return nil
}
