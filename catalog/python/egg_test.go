package python

import (
	"archive/zip"
	"bytes"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
)

// makeZip returns a zip archive holding files (name → contents), deflated.
func makeZip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, name := range []string{"EGG-INFO/PKG-INFO", "EGG-INFO/requires.txt", "pkg/__init__.py", "EGG-INFO/top_level.txt"} {
		s, ok := files[name]
		if !ok {
			continue
		}
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestZippedEggs(t *testing.T) {
	const site = "usr/lib/python3.11/site-packages/"
	fsys := fstest.MapFS{
		site + "requests-2.0.0-py3.11.egg": {Data: makeZip(t, map[string]string{
			"EGG-INFO/PKG-INFO":     "Metadata-Version: 1.1\nName: requests\nVersion: 2.0.0\nLicense: Apache 2.0\n\nlong description\n",
			"EGG-INFO/requires.txt": "urllib3>=1.21\n# a comment\n\n[security]\npyOpenSSL>=0.14\n",
			"pkg/__init__.py":       "",
		})},
		site + "urllib3-1.26.0-py3.11.egg": {Data: makeZip(t, map[string]string{
			"EGG-INFO/PKG-INFO": "Metadata-Version: 1.1\nName: urllib3\nVersion: 1.26.0\n",
		})},
		site + "owned-1.0.egg": {Data: makeZip(t, map[string]string{
			"EGG-INFO/PKG-INFO": "Metadata-Version: 1.1\nName: owned\nVersion: 1.0\n",
		})},
		site + "corrupt-1.0.egg":  {Data: []byte("PK\x03\x04 not really a zip")},
		site + "noinfo-1.0.egg":   {Data: makeZip(t, map[string]string{"pkg/__init__.py": ""})},
		site + "noname-1.0.egg":   {Data: makeZip(t, map[string]string{"EGG-INFO/PKG-INFO": "Version: 1.0\n"})},
		site + "bomb-1.0.egg":     {Data: makeZip(t, map[string]string{"EGG-INFO/PKG-INFO": "Name: bomb\nVersion: 1\n" + strings.Repeat(" ", maxMetadata)})},
		"opt/big.egg":             {Data: make([]byte, maxEgg+1)},
		site + "eggdir.egg/x.txt": {Data: []byte("a directory named .egg is not a zipped egg")},
	}
	env := catalog.Env{Owned: func(p string) bool { return p == site+"owned-1.0.egg" }}
	res, logs := langtest.Run(t, New(), fsys, env)
	if len(res) != 1 || res[0].Target != InstalledTarget {
		t.Fatalf("results = %+v (logs %v)", res, logs.Lines())
	}
	var ids []string
	for _, p := range res[0].Packages {
		ids = append(ids, p.ID)
	}
	if want := []string{"requests@2.0.0", "urllib3@1.26.0"}; !slices.Equal(ids, want) {
		t.Errorf("packages = %v, want %v", ids, want)
	}
	req := langtest.Find(res, "requests")
	if req.Purl != "pkg:pypi/requests@2.0.0" || req.FilePath != site+"requests-2.0.0-py3.11.egg" ||
		!slices.Equal(req.Licenses, []string{"Apache 2.0"}) || !slices.Equal(req.DependsOn, []string{"urllib3@1.26.0"}) {
		t.Errorf("requests = %+v", req)
	}
	for _, f := range []string{"corrupt-1.0.egg", "noinfo-1.0.egg", "noname-1.0.egg", "bomb-1.0.egg"} {
		if !logs.Contains(f) {
			t.Errorf("no warning naming %s: %v", f, logs.Lines())
		}
	}
	if New().Wants("opt/big.egg", 0o644, maxEgg+1) {
		t.Error("an egg above the size limit is wanted")
	}
}

func TestParseRequiresTxt(t *testing.T) {
	got := parseRequiresTxt([]byte("six\n  chardet<5,>=3.0.2 \n\n[:python_version < \"3\"]\nfutures\n"))
	if want := []string{"six", "chardet<5,>=3.0.2"}; !slices.Equal(got, want) {
		t.Errorf("parseRequiresTxt = %q, want %q", got, want)
	}
}
