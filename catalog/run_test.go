package catalog_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/layerfs"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// fakeOS reads "name version file..." lines from var/lib/fake/db.
type fakeOS struct{ runs *int }

func (fakeOS) Name() string  { return "fake-os" }
func (fakeOS) Class() string { return inventory.ClassOSPkgs }
func (fakeOS) Wants(p string, _ fs.FileMode, _ int64) bool {
	return p == "var/lib/fake/db"
}

func (f fakeOS) Catalog(_ context.Context, fsys fs.FS, _ catalog.Env) ([]inventory.Result, error) {
	*f.runs++
	b, err := fs.ReadFile(fsys, "var/lib/fake/db")
	if err != nil {
		return nil, nil
	}
	if bytes.HasPrefix(b, []byte("corrupt")) {
		return nil, errors.New("fake-os: var/lib/fake/db: nothing could be read")
	}
	r := inventory.Result{Target: "var/lib/fake/db", Class: inventory.ClassOSPkgs, Type: "fake"}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		r.Packages = append(r.Packages, inventory.Package{Name: fields[0], Version: fields[1], InstalledFiles: fields[2:]})
	}
	return []inventory.Result{r}, nil
}

// fakeLang reports one package per app/*.json file not owned by an OS
// package; it is listed first to check that OS catalogers run first.
type fakeLang struct{}

func (fakeLang) Name() string { return "fake-lang" }
func (fakeLang) Wants(p string, _ fs.FileMode, _ int64) bool {
	return strings.HasPrefix(p, "app/") && strings.HasSuffix(p, ".json")
}

func (fakeLang) Catalog(_ context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	des, _ := fs.ReadDir(fsys, "app")
	var rs []inventory.Result
	for _, d := range des {
		p := "app/" + d.Name()
		if env.Owned(p) {
			continue
		}
		b, _ := fs.ReadFile(fsys, p)
		if len(b) == 0 {
			env.Warn(p, "fake-lang: empty file", nil)
			continue
		}
		rs = append(rs, inventory.Result{Target: p, Class: inventory.ClassLangPkgs, Type: "fakelang",
			Packages: []inventory.Package{{Name: d.Name(), Version: strings.TrimSpace(string(b)), FilePath: p}}})
	}
	return rs, nil
}

func TestRunAttribution(t *testing.T) {
	entries := [][]lt.Entry{
		{{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.10.4\n"}, {Name: "bin/sh", Body: "x"}},
		{{Name: "var/lib/fake/db", Body: "a 1\nb 1 /app/owned.json\n"}},
		{{Name: "app/z.json", Body: "1"}, {Name: "app/owned.json", Body: "9"}, {Name: "app/empty.json"}},
		{{Name: "var/lib/fake/db", Body: "a 1\nb 1 /app/owned.json\nc 1\n"}},
		{{Name: "var/lib/fake/db", Body: "a 1\nb 2 /app/owned.json\nc 1\n"}, {Name: "app/y.json", Body: "2"}},
		{{Name: "etc/motd", Body: "hi"}},
	}
	var ls []v1.Layer
	var layers []inventory.Layer
	for i, es := range entries {
		l := lt.NewLayer(t, es...)
		ls = append(ls, l)
		d, _ := l.Digest()
		diff, _ := l.DiffID()
		layers = append(layers, inventory.Layer{Digest: d.String(), DiffID: diff.String(), CreatedBy: "step " + string(rune('0'+i))})
	}
	runs := 0
	cats := []catalog.Cataloger{fakeLang{}, fakeOS{runs: &runs}}
	want := func(p string, m fs.FileMode, s int64) bool {
		return p == "etc/os-release" || cats[0].Wants(p, m, s) || cats[1].Wants(p, m, s)
	}
	tree, err := layerfs.ReadLayers(context.Background(), ls, layerfs.Options{Want: want})
	if err != nil {
		t.Fatal(err)
	}
	out, err := catalog.Run(context.Background(), tree, cats, catalog.RunOptions{
		Name: "img:1", Layers: layers, Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	osRel, results := out.OS, out.Results
	// The empty file is warned about once, though the cataloger also ran
	// on earlier views to attribute packages to layers.
	// It names the layer that holds the file.
	if want := []inventory.Warning{{Layer: layers[2].DiffID, Path: "app/empty.json", Message: "fake-lang: empty file"}}; !slices.Equal(out.Warnings, want) {
		t.Errorf("warnings = %+v, want %+v", out.Warnings, want)
	}
	if osRel == nil || osRel.Family != "alpine" || osRel.Name != "3.10.4" || !osRel.EOSL {
		t.Fatalf("OS = %+v", osRel)
	}
	got := map[string]string{} // "name@version" → CreatedBy
	var targets []string
	for _, r := range results {
		targets = append(targets, r.Target+"|"+r.Type)
		for _, p := range r.Packages {
			got[p.Name+"@"+p.Version] = p.Layer.CreatedBy
			if p.Layer.Digest == "" || p.Layer.DiffID == "" {
				t.Errorf("%s: layer digest missing: %+v", p.Name, p.Layer)
			}
		}
	}
	wantLayers := map[string]string{
		"a@1": "step 1", "b@2": "step 4", "c@1": "step 3",
		"z.json@1": "step 2", "y.json@2": "step 4",
	}
	if len(got) != len(wantLayers) {
		t.Errorf("packages = %v, want %v (app/owned.json is owned by b)", got, wantLayers)
	}
	for k, w := range wantLayers {
		if got[k] != w {
			t.Errorf("%s introduced by %q, want %q", k, got[k], w)
		}
	}
	wantTargets := []string{"img:1 (alpine 3.10.4)|alpine", "app/y.json|fakelang", "app/z.json|fakelang"}
	if strings.Join(targets, ",") != strings.Join(wantTargets, ",") {
		t.Errorf("targets = %v, want %v", targets, wantTargets)
	}
	// The db changed in layers 1, 3 and 4: one final run plus at most the
	// views after layers 3 and 1.
	if runs > 3 {
		t.Errorf("fake-os ran %d times, want at most 3", runs)
	}
}

// failingLang is a language cataloger that fails.
type failingLang struct{ fakeLang }

func (failingLang) Name() string { return "failing-lang" }
func (failingLang) Catalog(context.Context, fs.FS, catalog.Env) ([]inventory.Result, error) {
	return nil, errors.New("cannot list app")
}

// TestRunFailures checks that an OS cataloger's failure fails Run, naming
// the file, and that another cataloger's failure is a warning.
func TestRunFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		db      string
		cats    []catalog.Cataloger
		err     string
		warning string
	}{
		{"readable", "a 1\n", []catalog.Cataloger{fakeOS{runs: new(int)}}, "", ""},
		{"corrupt OS database", "corrupt\n", []catalog.Cataloger{fakeLang{}, fakeOS{runs: new(int)}}, "fake-os: var/lib/fake/db: nothing could be read", ""},
		{"failing language cataloger", "a 1\n", []catalog.Cataloger{failingLang{}, fakeOS{runs: new(int)}}, "", "failing-lang: cannot list app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree, err := layerfs.ReadLayers(context.Background(), []v1.Layer{lt.NewLayer(t, lt.Entry{Name: "var/lib/fake/db", Body: tc.db})},
				layerfs.Options{Want: func(string, fs.FileMode, int64) bool { return true }})
			if err != nil {
				t.Fatal(err)
			}
			out, err := catalog.Run(context.Background(), tree, tc.cats, catalog.RunOptions{Name: "img"})
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ws []string
			for _, w := range out.Warnings {
				if !strings.HasPrefix(w.Message, "detecting the operating system") {
					ws = append(ws, w.Message)
				}
			}
			if tc.warning == "" && len(ws) > 0 || tc.warning != "" && (len(ws) != 1 || ws[0] != tc.warning) {
				t.Errorf("warnings = %q, want %q", ws, tc.warning)
			}
		})
	}
}

// TestRunSkip: files left out are not seen by any cataloger, so an OS
// database left out cannot fail the run and a file left out draws no
// warning; the others are read as before.
func TestRunSkip(t *testing.T) {
	tree, err := layerfs.ReadLayers(context.Background(), []v1.Layer{lt.NewLayer(t,
		lt.Entry{Name: "var/lib/fake/db", Body: "corrupt\n"},
		lt.Entry{Name: "app/empty.json"},
		lt.Entry{Name: "app/z.json", Body: "1"},
	)}, layerfs.Options{Want: func(string, fs.FileMode, int64) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	cats := []catalog.Cataloger{fakeLang{}, fakeOS{runs: new(int)}}
	if _, err := catalog.Run(context.Background(), tree, cats, catalog.RunOptions{Name: "img"}); err == nil {
		t.Fatal("the corrupt database did not fail the run")
	}
	skip := func(p string) bool { return p == "var/lib/fake/db" || p == "app/empty.json" }
	out, err := catalog.Run(context.Background(), tree, cats, catalog.RunOptions{Name: "img", Skip: skip})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range out.Results {
		got = append(got, r.Target)
	}
	if !slices.Equal(got, []string{"app/z.json"}) {
		t.Errorf("results = %q, want app/z.json only", got)
	}
	for _, w := range out.Warnings {
		if w.Path != "" {
			t.Errorf("warning about a file left out: %+v", w)
		}
	}
}

// TestRunClasses: with only language packages asked for, the OS
// cataloger still tells which files its packages own, but its results
// are dropped and its failure fails nothing; with only OS packages asked
// for, the language catalogers do not run, so they warn of nothing.
func TestRunClasses(t *testing.T) {
	read := func(db string) catalog.Tree {
		tree, err := layerfs.ReadLayers(context.Background(), []v1.Layer{lt.NewLayer(t,
			lt.Entry{Name: "var/lib/fake/db", Body: db},
			lt.Entry{Name: "app/owned.json", Body: "1"},
			lt.Entry{Name: "app/empty.json"},
			lt.Entry{Name: "app/z.json", Body: "2"},
		)}, layerfs.Options{Want: func(string, fs.FileMode, int64) bool { return true }})
		if err != nil {
			t.Fatal(err)
		}
		return tree
	}
	cats := []catalog.Cataloger{fakeLang{}, fakeOS{runs: new(int)}}
	summary := func(out *catalog.Output) (targets, warnings []string) {
		for _, r := range out.Results {
			targets = append(targets, r.Target)
		}
		for _, w := range out.Warnings {
			if !strings.HasPrefix(w.Message, "detecting the operating system") {
				warnings = append(warnings, w.Path+": "+w.Message)
			}
		}
		return targets, warnings
	}
	for _, tc := range []struct {
		name     string
		db       string
		classes  []string
		targets  []string
		warnings []string
	}{
		{"both", "a 1 app/owned.json\n", nil,
			[]string{"var/lib/fake/db", "app/z.json"}, []string{"app/empty.json: fake-lang: empty file"}},
		{"language packages", "a 1 app/owned.json\n", []string{inventory.ClassLangPkgs},
			[]string{"app/z.json"}, []string{"app/empty.json: fake-lang: empty file"}},
		{"language packages, the OS database corrupt", "corrupt\n", []string{inventory.ClassLangPkgs},
			[]string{"app/owned.json", "app/z.json"}, []string{"app/empty.json: fake-lang: empty file"}},
		{"OS packages", "a 1 app/owned.json\n", []string{inventory.ClassOSPkgs},
			[]string{"var/lib/fake/db"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := catalog.Run(context.Background(), read(tc.db), cats, catalog.RunOptions{Name: "img", Classes: tc.classes})
			if err != nil {
				t.Fatal(err)
			}
			targets, warnings := summary(out)
			if !slices.Equal(targets, tc.targets) || !slices.Equal(warnings, tc.warnings) {
				t.Errorf("results %q, warnings %q; want %q, %q", targets, warnings, tc.targets, tc.warnings)
			}
		})
	}
}

// TestRunUnreadable: Env.Unreadable names what stands at a path, below
// it or above it but could not be read, except where Skip leaves it out.
func TestRunUnreadable(t *testing.T) {
	tree, err := layerfs.ReadLayers(context.Background(), []v1.Layer{lt.NewLayer(t,
		lt.Entry{Name: "var/lib/fake/db", Type: tar.TypeFifo},
		lt.Entry{Name: "var/lib/fake/d.d/x", Type: tar.TypeFifo},
	)}, layerfs.Options{Want: func(p string, _ fs.FileMode, _ int64) bool { return strings.HasPrefix(p, "var/lib/fake/") }})
	if err != nil {
		t.Fatal(err)
	}
	var env catalog.Env
	probe := probeCataloger{env: &env}
	for _, tc := range []struct {
		skip       func(string) bool
		path, file string
	}{
		{nil, "var/lib/fake/db", "var/lib/fake/db"},
		{nil, "var/lib/fake/d.d", "var/lib/fake/d.d/x"},
		{nil, "var/lib/fake/other", ""},
		{func(p string) bool { return p == "var/lib/fake/db" }, "var/lib/fake/db", ""},
		{func(p string) bool { return strings.HasPrefix(p, "var/lib/fake/d.d/") }, "var/lib/fake/d.d", ""},
	} {
		if _, err := catalog.Run(context.Background(), tree, []catalog.Cataloger{probe}, catalog.RunOptions{Skip: tc.skip}); err != nil {
			t.Fatal(err)
		}
		file, what := env.NotRead(tc.path)
		if file != tc.file || (file != "" && what != "fifo where a regular file is expected") {
			t.Errorf("NotRead(%s) = %q, %q; want %q", tc.path, file, what, tc.file)
		}
	}
	if file, what := (catalog.Env{}).NotRead("x"); file != "" || what != "" {
		t.Errorf("NotRead without Unreadable = %q, %q", file, what)
	}
}

// probeCataloger keeps the Env it is given.
type probeCataloger struct{ env *catalog.Env }

func (probeCataloger) Name() string                          { return "probe" }
func (probeCataloger) Wants(string, fs.FileMode, int64) bool { return false }
func (p probeCataloger) Catalog(_ context.Context, _ fs.FS, env catalog.Env) ([]inventory.Result, error) {
	*p.env = env
	return nil, nil
}
