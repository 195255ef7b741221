package all

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/inventory"
)

// flatTree is a one-layer catalog.Tree over an fs.FS.
type flatTree struct{ fsys fs.FS }

func (t flatTree) FS() fs.FS    { return t.fsys }
func (t flatTree) At(int) fs.FS { return t.fsys }
func (t flatTree) Changed(func(string, fs.FileMode, int64) bool) []int {
	return nil
}
func (t flatTree) LayerOf(string) (int, bool)    { return 0, false }
func (t flatTree) Unreadable() map[string]string { return nil }

// wanted keeps only what the catalogers want, as the layer walk does.
func wanted(cats []catalog.Cataloger, files fstest.MapFS) fstest.MapFS {
	out := fstest.MapFS{}
	for p, f := range files {
		for _, c := range cats {
			if c.Wants(p, f.Mode, int64(len(f.Data))) {
				out[p] = f
				break
			}
		}
		if p == "etc/os-release" {
			out[p] = f
		}
	}
	return out
}

const status = `Package: python3-six
Status: install ok installed
Priority: optional
Section: python
Installed-Size: 60
Maintainer: Debian Python Team <team+python@tracker.debian.org>
Architecture: all
Source: six
Version: 1.16.0-4
Description: Python 2 and 3 compatibility library
`

const metadata = "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n"

func TestOSOwnedFilesAreNotLanguagePackages(t *testing.T) {
	files := fstest.MapFS{
		"etc/os-release":                     {Data: []byte("ID=debian\nVERSION_ID=\"12\"\n")},
		"var/lib/dpkg/status":                {Data: []byte(status)},
		"var/lib/dpkg/info/python3-six.list": {Data: []byte("/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA\n/usr/lib/python3/dist-packages/six.py\n")},
		"usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA": {Data: []byte(metadata)},
		// pip-installed: not owned, so reported.
		"usr/local/lib/python3.11/dist-packages/requests-2.31.0.dist-info/METADATA": {Data: []byte("Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n")},
		// A lockfile is not read in an image.
		"app/requirements.txt": {Data: []byte("flask==2.0.0\n")},
	}
	cats := Catalogers(Installed, Options{})
	out, err := catalog.Run(context.Background(), flatTree{wanted(cats, files)}, cats, catalog.RunOptions{Name: "img"})
	if err != nil {
		t.Fatal(err)
	}
	results := out.Results
	var got []string
	for _, r := range results {
		for _, p := range r.Packages {
			got = append(got, r.Class+":"+p.Name+"@"+p.Version)
		}
	}
	want := []string{inventory.ClassOSPkgs + ":python3-six@1.16.0-4", inventory.ClassLangPkgs + ":requests@2.31.0"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("packages = %q, want %q", got, want)
	}

	// In a project directory the lockfile is read, installed copies are not.
	cats = Catalogers(Project, Options{})
	out, err = catalog.Run(context.Background(), flatTree{wanted(cats, files)}, cats, catalog.RunOptions{Name: "dir"})
	if err != nil {
		t.Fatal(err)
	}
	results = out.Results
	got = got[:0]
	for _, r := range results {
		for _, p := range r.Packages {
			got = append(got, r.Class+":"+p.Name+"@"+p.Version)
		}
	}
	want = []string{inventory.ClassOSPkgs + ":python3-six@1.16.0-4", inventory.ClassLangPkgs + ":flask@2.0.0"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("project packages = %q, want %q", got, want)
	}
}
