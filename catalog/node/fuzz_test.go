package node

import (
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
)

// workspaceRoot is the manifest the lockfile fuzz targets read their
// lockfile with: a workspace root with members, so that the workspace
// walk is fuzzed too.
var workspaceRoot = fstest.MapFS{
	"package.json":                 {Data: []byte(`{"name":"mono","version":"1.0.0","workspaces":["packages/*"],"dependencies":{"a":"^1.0.0","helper":"^1.0.0"},"devDependencies":{"d":"^1.0.0","lint":"^1.0.0"}}`)},
	"packages/app/package.json":    {Data: []byte(`{"name":"app","version":"2.0.0","dependencies":{"helper":"^1.0.0","shared":"1.0.0"}}`)},
	"packages/shared/package.json": {Data: []byte(`{"name":"shared","version":"1.0.0","dependencies":{"tiny":"^3.0.0"},"devDependencies":{"lint":"^1.0.0"}}`)},
}

func FuzzPackageLock(f *testing.F) {
	langtest.FuzzFile(f, New(), "package-lock.json", workspaceRoot, "testdata/*/package-lock.json", "testdata/malformed/*/package-lock.json")
}

func FuzzYarnLock(f *testing.F) {
	langtest.FuzzFile(f, New(), "yarn.lock", workspaceRoot, "testdata/*/yarn.lock", "testdata/malformed/*/yarn.lock")
}

func FuzzPnpmLock(f *testing.F) {
	langtest.FuzzFile(f, New(), "pnpm-lock.yaml", workspaceRoot, "testdata/*/pnpm-lock.yaml", "testdata/malformed/*/pnpm-lock.yaml")
}

// FuzzPackageJSON fuzzes a project's package.json (read with the yarn
// lockfile of the workspace fixture) and an installed package's.
func FuzzPackageJSON(f *testing.F) {
	lock := fstest.MapFS{
		"yarn.lock":                   {Data: langtest.Read(f, "testdata/yarnws/yarn.lock")},
		"node_modules/x/package.json": {Data: []byte(`{"name":"x","version":"1.0.0","dependencies":{"y":"1"}}`)},
	}
	langtest.FuzzFile(f, New(), "package.json", lock, "testdata/*/package.json", "testdata/yarnws/packages/*/package.json")
}
