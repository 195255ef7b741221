//go:build !unix

package vulndb

import (
	"errors"
	"os"
	"time"
)

// tryLockFile creates path exclusively; a lock file older than
// staleLockFile is taken for one left by a dead process and replaced.
// Without flock a process killed while holding the lock leaves the file
// behind; the age bound is the stale-lock detection.
func tryLockFile(path string) (func(), error) {
	f, err := os.OpenFile(path+".excl", os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
	if errors.Is(err, os.ErrExist) {
		if fi, serr := os.Stat(path + ".excl"); serr == nil && time.Since(fi.ModTime()) > staleLockFile {
			os.Remove(path + ".excl")
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f.Close()
	return func() { os.Remove(path + ".excl") }, nil
}

const staleLockFile = 2 * time.Hour

func lockExclusive(*os.File) error { return nil }
