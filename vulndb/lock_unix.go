//go:build unix

package vulndb

import (
	"errors"
	"os"
	"syscall"
)

// tryLockFile takes an exclusive flock on path (created if absent) without
// waiting. It returns nil, nil when another process holds it. The kernel
// releases the lock when its holder exits, however it exits.
func tryLockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// lockExclusive takes an exclusive flock on a file just created; it is
// released when the file is closed.
func lockExclusive(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
