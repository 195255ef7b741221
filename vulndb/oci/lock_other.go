//go:build !unix

package oci

// lockFile is a no-op where flock is unavailable; the atomic rename still
// keeps the database consistent, but two updates may download twice.
func lockFile(path string) (func(), error) { return func() {}, nil }
