package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/scan"
	"github.com/vigil-scanner/vigil/store"
	"github.com/vigil-scanner/vigil/vulndb"
)

// inventoryKey is the key of inventories this build makes.
func inventoryKey() string { return scan.InventoryKey() }

// dbState is the open vulnerability database. A database is identified by
// the digest of its content, so two builds within one second are two
// databases.
type dbState struct {
	mu      sync.RWMutex
	db      *vulndb.DB
	matcher *match.Matcher
	dig     string
	meta    vulndb.Metadata
	size    int64
	mtime   time.Time
	// users counts matchers handed out, so a replaced database is closed
	// only once nobody matches with it.
	old []*vulndb.DB
}

// current returns the matcher and database digest to match with.
func (d *dbState) current() (*match.Matcher, string, vulndb.Metadata) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.matcher, d.dig, d.meta
}

func (d *dbState) digest() string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.dig
}

func (d *dbState) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db != nil {
		d.db.Close()
		d.db, d.matcher, d.dig = nil, nil, ""
	}
	for _, o := range d.old {
		o.Close()
	}
	d.old = nil
}

// DBInfo describes the database the engine matches with.
type DBInfo struct {
	Digest  string
	BuiltAt time.Time
}

// DB returns the database in use.
func (e *Engine) DB() DBInfo {
	_, dig, meta := e.db.current()
	return DBInfo{Digest: dig, BuiltAt: meta.BuiltAt}
}

// dbLoop checks the database every DBCheck and refreshes it every
// DBRefresh.
func (e *Engine) dbLoop(ctx context.Context) {
	t := time.NewTicker(e.opts.DBCheck)
	defer t.Stop()
	lastRefresh := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if e.opts.RefreshDB != nil && time.Since(lastRefresh) >= e.opts.DBRefresh {
			lastRefresh = time.Now()
			if err := e.opts.RefreshDB(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("could not refresh the vulnerability database; matching with the local copy", "err", err)
			}
		}
		if err := e.checkDB(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("vulnerability database", "err", err)
		}
	}
}

// checkDB opens the database when its content changed and, when it did,
// queues a re-match of every stored inventory matched with another
// database. The database's index changes with every build or update; its
// Digest changes only when the content does.
func (e *Engine) checkDB(ctx context.Context) error {
	indexPath := filepath.Join(e.opts.DBPath, vulndb.IndexFileName)
	st, err := os.Stat(indexPath)
	if err != nil {
		if e.db.digest() != "" {
			return nil // keep matching with the open one
		}
		return fmt.Errorf("vulnerability database: %w (build one with `vigil db build` or fetch one with `vigil db update`)", err)
	}
	e.db.mu.RLock()
	same := e.db.db != nil && st.Size() == e.db.size && st.ModTime().Equal(e.db.mtime)
	e.db.mu.RUnlock()
	if same {
		return nil
	}
	idx, err := vulndb.ReadIndex(e.opts.DBPath)
	if err != nil {
		if e.db.digest() != "" {
			e.log.Error("new vulnerability database unreadable; matching with the previous one", "err", err)
			return nil
		}
		return err
	}
	dig := idx.Digest()
	e.db.mu.Lock()
	if dig == e.db.dig {
		e.db.size, e.db.mtime = st.Size(), st.ModTime()
		e.db.mu.Unlock()
		return nil
	}
	db, err := vulndb.Open(e.opts.DBPath)
	if err != nil {
		e.db.mu.Unlock()
		if e.db.digest() != "" {
			e.log.Error("new vulnerability database unreadable; matching with the previous one", "err", err)
			return nil
		}
		return err
	}
	if e.db.db != nil {
		// Matches in flight may still read it; closed at shutdown.
		e.db.old = append(e.db.old, e.db.db)
	}
	e.db.db, e.db.dig, e.db.meta = db, dig, db.Metadata()
	e.db.matcher = match.New(db, match.Options{Logger: e.log})
	e.db.size, e.db.mtime = st.Size(), st.ModTime()
	e.db.mu.Unlock()
	e.log.Info("vulnerability database", "digest", dig, "built", db.Metadata().BuiltAt)
	return e.enqueueRematch(ctx)
}

// enqueueRematch queues a re-match of every inventory not matched with
// the current database.
func (e *Engine) enqueueRematch(ctx context.Context) error {
	dig := e.db.digest()
	now := e.opts.Now()
	total := 0
	for {
		digests, err := e.st.Unmatched(ctx, dig, 5000)
		if err != nil {
			return err
		}
		if len(digests) == 0 {
			break
		}
		jobs := make([]store.NewJob, 0, len(digests))
		for _, d := range digests {
			jobs = append(jobs, store.NewJob{Kind: store.JobRematch, Key: "rematch:" + d + ":" + dig, Payload: jsonOf(rematchPayload{Digest: d, DB: dig})})
		}
		n, err := e.st.Enqueue(ctx, now, jobs...)
		if err != nil {
			return err
		}
		total += n
		if len(digests) < 5000 || n == 0 {
			break
		}
	}
	if total > 0 {
		e.log.Info("re-matching stored inventories", "images", total, "db", dig)
		e.poke()
	}
	return nil
}

// enqueueStale queues a new catalogue of inventories an older vigil or
// cataloger set made; the scan job reads the image again.
func (e *Engine) enqueueStale(ctx context.Context) {
	imgs, err := e.st.Stale(ctx, e.key, 10000)
	if err != nil {
		e.log.Error("could not list stale inventories", "err", err)
		return
	}
	var jobs []store.NewJob
	for _, img := range imgs {
		jobs = append(jobs, scanJob(e.key, scanPayload{Registry: img.Registry, Repository: img.Repository, Digest: img.Digest, Platform: img.Platform, Recatalog: true}, -1))
	}
	if n, err := e.st.Enqueue(ctx, e.opts.Now(), jobs...); err != nil {
		e.log.Error("could not queue re-catalogues", "err", err)
	} else if n > 0 {
		e.log.Info("re-cataloguing inventories made by another vigil build", "images", n)
	}
}
