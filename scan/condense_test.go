package scan

import (
	"io/fs"
	"testing"

	"github.com/vigil-scanner/vigil/catalog/all"
)

func TestCondenseRule(t *testing.T) {
	hook := condense(all.Catalogers(all.Installed, all.Options{}))
	tests := []struct {
		path string
		mode fs.FileMode
		size int64
		want bool
	}{
		{"usr/local/bin/app", 0o755, 4 << 20, true},   // Go and Rust catalogers: joined
		{"usr/local/bin/small", 0o755, 8 << 10, true}, // Rust cataloger only
		{"usr/lib/libx.so", 0o644, 4 << 20, false},    // wanted by none
		{"etc/os-release", 0o755, 8 << 10, false},     // OS detection wants it whole
	}
	for _, tt := range tests {
		if got := hook(tt.path, tt.mode, tt.size) != nil; got != tt.want {
			t.Errorf("condense(%s, %v, %d) != nil is %v, want %v", tt.path, tt.mode, tt.size, got, tt.want)
		}
	}
}
