package vulndb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Writers of a database directory (builds, updates) take its lock so that
// two processes sharing a cache directory do not download or build the
// same thing twice. The lock is an economy, not what keeps the database
// consistent: every write is a new file renamed into place, so a process
// that gives up waiting and goes on without the lock cannot corrupt
// anything. That is what lets a scan never stall behind a hung update.

const lockFileName = ".lock"

// LockOptions configure Lock.
type LockOptions struct {
	// Wait is how long to wait for another holder; 0 means 1 minute.
	// ctx cancels the wait too.
	Wait time.Duration
	// Purpose is recorded in the lock file for whoever waits ("update",
	// "build").
	Purpose string
}

// LockHolder is what a lock file says about its holder.
type LockHolder struct {
	PID     int       `json:"pid"`
	Purpose string    `json:"purpose,omitempty"`
	Since   time.Time `json:"since"`
}

// ErrLocked reports that another process held the lock for the whole wait.
type ErrLocked struct {
	Path   string
	Holder LockHolder // zero when the lock file could not be read
	Waited time.Duration
}

func (e *ErrLocked) Error() string {
	who := "another vigil process"
	if e.Holder.PID > 0 {
		who = fmt.Sprintf("vigil process %d (%s since %s)", e.Holder.PID, e.Holder.Purpose, e.Holder.Since.Format(time.RFC3339))
	}
	return fmt.Sprintf("%s holds %s; waited %s", who, e.Path, e.Waited.Round(time.Second))
}

// Lock takes the write lock of the database directory dir, waiting up to
// opts.Wait. It returns the release function, or *ErrLocked when another
// process kept it for the whole wait (a hung process, whose lock the kernel
// would release if it died), or ctx's error.
func Lock(ctx context.Context, dir string, opts LockOptions) (func(), error) {
	wait := opts.Wait
	if wait <= 0 {
		wait = time.Minute
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("vulndb: lock: %w", err)
	}
	path := filepath.Join(dir, lockFileName)
	start := time.Now()
	delay := 20 * time.Millisecond
	for {
		unlock, err := tryLockFile(path)
		if err != nil {
			return nil, fmt.Errorf("vulndb: lock %s: %w", path, err)
		}
		if unlock != nil {
			writeHolder(path, opts.Purpose)
			return unlock, nil
		}
		waited := time.Since(start)
		if waited >= wait {
			return nil, &ErrLocked{Path: path, Holder: readHolder(path), Waited: waited}
		}
		t := time.NewTimer(min(delay, wait-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("vulndb: waiting for %s: %w", path, context.Cause(ctx))
		case <-t.C:
		}
		delay = min(delay*2, time.Second)
	}
}

// The holder's description sits in a file beside the lock file: the lock
// file itself is locked, and on some systems cannot be read by others.
func holderPath(lockPath string) string { return lockPath + ".holder" }

func writeHolder(lockPath, purpose string) {
	raw, _ := json.Marshal(LockHolder{PID: os.Getpid(), Purpose: purpose, Since: time.Now().UTC().Truncate(time.Second)})
	writeFileAtomic(holderPath(lockPath), raw)
}

func readHolder(lockPath string) LockHolder {
	var h LockHolder
	raw, err := os.ReadFile(holderPath(lockPath))
	if err == nil {
		json.Unmarshal(raw, &h)
	}
	return h
}

// Sweep removes what killed processes left in the database directory dir:
// temporary files nobody holds open (older than staleTemp), part files
// that neither the index nor the previous index names (older than
// staleParts: an update running beside this one may not have written its
// index yet), and the single-file database of schema 1 once a database of
// this schema is there. It returns the number of files removed; errors are
// not fatal to anyone and are returned joined.
func Sweep(dir string) (int, error) {
	now := time.Now()
	removed := 0
	var errs []error
	remove := func(path string) {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			return
		}
		removed++
	}
	for _, d := range []string{dir, filepath.Join(dir, PartsDirName)} {
		entries, err := os.ReadDir(d)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		for _, e := range entries {
			name := e.Name()
			// ".vigil-db-" is the temporary prefix of schema-1 updates.
			if !strings.HasPrefix(name, tempPrefix) && !strings.HasPrefix(name, ".vigil-db-") {
				continue
			}
			path := filepath.Join(d, name)
			if fi, err := e.Info(); err != nil || now.Sub(fi.ModTime()) < staleTemp {
				continue
			}
			if unlock, err := tryLockFile(path); err == nil && unlock != nil {
				unlock()
				remove(path)
			}
		}
	}
	idx, err := ReadIndex(dir)
	if err != nil {
		return removed, errors.Join(errs...)
	}
	indexes := []*Index{idx}
	if prev, err := readIndexFile(filepath.Join(dir, prevIndexName)); err == nil {
		indexes = append(indexes, prev)
	}
	keep := map[string]bool{}
	for _, ix := range indexes {
		for _, p := range ix.Parts {
			if p.Local {
				keep[filepath.Base(PartPath(dir, p.Content))] = true
			}
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, PartsDirName))
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".db") || strings.HasPrefix(name, ".") || keep[name] {
			continue
		}
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) >= staleParts {
			remove(filepath.Join(dir, PartsDirName, name))
		}
	}
	for _, name := range []string{legacyFileName, legacyFileName + ".lock"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			remove(filepath.Join(dir, name))
		}
	}
	return removed, errors.Join(errs...)
}

// Ages past which Sweep takes a file for abandoned.
const (
	staleTemp  = 10 * time.Minute
	staleParts = time.Hour
)

// readIndexFile reads an index file without the directory checks of
// ReadIndex.
func readIndexFile(path string) (*Index, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var idx Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, err
	}
	return &idx, nil
}
