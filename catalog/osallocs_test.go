package catalog_test

import (
	"testing"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/apk"
	"github.com/vigil-scanner/vigil/catalog/dpkg"
	"github.com/vigil-scanner/vigil/catalog/rpm"
)

// TestOSWantsNoAlloc checks that the OS catalogers' Wants does not
// allocate, since it runs for every file of every layer.
func TestOSWantsNoAlloc(t *testing.T) {
	paths := []string{
		"lib/apk/db/installed", "var/lib/dpkg/status", "var/lib/dpkg/status.d/libc6",
		"var/lib/dpkg/info/libssl3:amd64.list", "var/lib/rpm/rpmdb.sqlite", "usr/bin/bash",
		"usr/lib/sysimage/rpm/Packages.db", "var/lib/rpm/Packages",
	}
	for _, c := range []catalog.Cataloger{apk.New(), dpkg.New(), rpm.New()} {
		allocs := testing.AllocsPerRun(100, func() {
			for _, p := range paths {
				c.Wants(p, 0o644, 1234)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: Wants allocates %v times per run", c.Name(), allocs)
		}
	}
}
