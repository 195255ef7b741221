package python

import (
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
)

// project returns the manifests the lockfile fuzz targets read their
// lockfile with, so that the walk from the project's root is fuzzed too.
func project(f *testing.F) fstest.MapFS {
	return fstest.MapFS{
		"pyproject.toml": {Data: langtest.Read(f, "testdata/projects/pylock/pyproject.toml")},
		"Pipfile":        {Data: []byte("[packages]\nrequests = \"*\"\n[dev-packages]\npytest = \"*\"\n")},
	}
}

func FuzzRequirements(f *testing.F) {
	langtest.FuzzFile(f, New(), "requirements.txt", nil, "testdata/lockfiles/requirements.txt")
}

func FuzzPipfileLock(f *testing.F) {
	langtest.FuzzFile(f, New(), "Pipfile.lock", project(f), "testdata/lockfiles/Pipfile.lock", "testdata/malformed/*/Pipfile.lock")
}

func FuzzPoetryLock(f *testing.F) {
	langtest.FuzzFile(f, New(), "poetry.lock", project(f), "testdata/*/poetry.lock", "testdata/*/*/poetry.lock")
}

func FuzzUVLock(f *testing.F) {
	langtest.FuzzFile(f, New(), "uv.lock", nil, "testdata/*/*/uv.lock")
}

func FuzzPylock(f *testing.F) {
	langtest.FuzzFile(f, New(), "pylock.toml", project(f), "testdata/projects/pylock/pylock.toml")
}

// FuzzPyproject and FuzzPipfile fuzz the manifests a lockfile is read
// with.
func FuzzPyproject(f *testing.F) {
	lock := fstest.MapFS{"poetry.lock": {Data: langtest.Read(f, "testdata/projects/poetry/poetry.lock")}}
	langtest.FuzzFile(f, New(), "pyproject.toml", lock, "testdata/projects/*/pyproject.toml")
}

func FuzzPipfile(f *testing.F) {
	lock := fstest.MapFS{"Pipfile.lock": {Data: langtest.Read(f, "testdata/lockfiles/Pipfile.lock")}}
	f.Add([]byte("[packages]\nrequests = {version = \"*\", extras = [\"socks\"]}\n[dev-packages]\npytest = \"*\"\n"))
	langtest.FuzzFile(f, New(), "Pipfile", lock)
}

func FuzzMetadata(f *testing.F) {
	langtest.FuzzFile(f, New(), "site-packages/x-1.0.dist-info/METADATA", nil,
		"testdata/installed/*/*/*/*/*/METADATA", "testdata/installed/*/*/*/*/*/*/METADATA")
}

func FuzzEgg(f *testing.F) {
	f.Add(makeZip(f, map[string]string{
		"EGG-INFO/PKG-INFO":     "Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n",
		"EGG-INFO/requires.txt": "a\n[extra]\nb\n",
	}))
	langtest.FuzzFile(f, New(), "site-packages/six-1.16.0-py3.11.egg", nil)
}

// FuzzMarker checks that any marker evaluates without a panic, and
// that "not (m)" is the negation of m.
func FuzzMarker(f *testing.F) {
	for _, m := range []string{
		"'dev' in dependency_groups",
		"('dev' in dependency_groups) and (python_version >= '3.10')",
		"extra == 'socks' or 'crypto' in extras",
		"'x' not in extras and sys_platform == 'win32'",
		"((('a' in extras)))",
	} {
		f.Add(m)
	}
	env := markerEnv{groups: map[string]bool{"default": true}, extras: map[string]bool{"socks": true}}
	f.Fuzz(func(t *testing.T, m string) {
		v := evalMarker(m, env)
		if v == unknown {
			return
		}
		// Wrapping in "x or (m)" with x false must not change the value.
		if w := evalMarker("'none' in extras or ("+m+")", env); w != v {
			t.Errorf("%q = %v, but 'none' in extras or (…) = %v", m, v, w)
		}
	})
}
