package langpkg

import (
	"errors"
	"slices"
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
