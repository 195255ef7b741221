package langpkg

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/inventory"
)

func TestFinish(t *testing.T) {
	got := Finish([]inventory.Package{
		{ID: "b@1", Name: "b", Version: "1", Dev: true, Indirect: true, DependsOn: []string{"c@1", "b@1"}},
		{ID: "a@1", Name: "a", Version: "1"},
		{ID: "b@1", Name: "b", Version: "1", Dev: false, Indirect: true, DependsOn: []string{"a@1", "c@1"}},
	})
	if len(got) != 2 || got[0].ID != "a@1" {
		t.Fatalf("got %+v", got)
	}
	b := got[1]
	if b.Dev || !b.Indirect || !slices.Equal(b.DependsOn, []string{"a@1", "c@1"}) {
		t.Errorf("merged b = %+v", b)
	}
}

func TestPurl(t *testing.T) {
	tests := []struct{ got, want string }{
		{NpmPurl("@babel/core", "7.0.0"), "pkg:npm/%40babel/core@7.0.0"},
		{NpmPurl("lodash", "4.17.21"), "pkg:npm/lodash@4.17.21"},
		{Purl("pypi", "", "Flask_Cors", "4.0.0"), "pkg:pypi/flask-cors@4.0.0"},
		{Purl("maven", "org.apache.logging.log4j", "log4j-core", "2.17.1"), "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1"},
		{Purl("pypi", "", "", "1"), ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestReadFileLimit(t *testing.T) {
	fsys := fstest.MapFS{"big": {Data: make([]byte, 100)}}
	if _, err := ReadFile(fsys, "big", 99); !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
	if b, err := ReadFile(fsys, "big", 100); err != nil || len(b) != 100 {
		t.Errorf("ReadFile = %d bytes, %v", len(b), err)
	}
}

func TestScope(t *testing.T) {
	// app (root) needs a at runtime and d in dev; member (root) needs c
	// at runtime. a → b; d → b, c, e; c → f. member is also a dev
	// dependency of d: the walk does not go through it.
	pkgs := []inventory.Package{
		{ID: "app@1", Root: true, DependsOn: []string{"a@1", "d@1", "member@1"}},
		{ID: "member@1", Root: true, DependsOn: []string{"c@1"}},
		{ID: "a@1", DependsOn: []string{"b@1"}},
		{ID: "b@1"},
		{ID: "c@1", DependsOn: []string{"f@1"}},
		{ID: "d@1", DependsOn: []string{"b@1", "c@1", "e@1", "member@1"}},
		{ID: "e@1"},
		{ID: "f@1"},
		{ID: "orphan@1", Dev: true},
	}
	Scope(pkgs, []string{"a@1", "c@1"}, []string{"d@1"})
	want := map[string]string{
		"app@1": "", "member@1": "", "a@1": "", "b@1": "indirect", "c@1": "",
		"d@1": "dev", "e@1": "dev indirect", "f@1": "indirect", "orphan@1": "dev indirect",
	}
	for _, p := range pkgs {
		got := ""
		if p.Dev {
			got = "dev"
		}
		if p.Indirect {
			got = strings.TrimSpace(got + " indirect")
		}
		if got != want[p.ID] {
			t.Errorf("%s: %q, want %q", p.ID, got, want[p.ID])
		}
	}
}

func TestProjectAndOrigin(t *testing.T) {
	p := Project("npm", "@s/app", "1.0.0", "web", []string{"a@1"})
	if !p.Root || p.ID != "@s/app@1.0.0" || p.Purl != "pkg:npm/%40s/app@1.0.0" {
		t.Errorf("project = %+v", p)
	}
	if p := Project("npm", "", "", "web", nil); p.ID != "web" || p.Purl != "" {
		t.Errorf("unnamed project = %+v", p)
	}
	if got := WithOrigin("pkg:npm/a@1.0.0", "git+https://github.com/o/a.git#abc"); got != "pkg:npm/a@1.0.0?vcs_url=git%2Bhttps:%2F%2Fgithub.com%2Fo%2Fa.git%23abc" {
		t.Errorf("git origin purl = %s", got)
	}
	if got := WithOrigin("pkg:npm/a@1.0.0", "file:../a"); !strings.Contains(got, "download_url=file:..%2Fa") {
		t.Errorf("file origin purl = %s", got)
	}
}
