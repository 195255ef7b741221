package sbom

import (
	"reflect"
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/report"
)

func TestPackageRefsUnique(t *testing.T) {
	pkg := inventory.Package{ID: "qs@6.7.0", Name: "qs", Version: "6.7.0", Purl: "pkg:npm/qs@6.7.0"}
	r := &report.Report{Results: []report.Result{
		{Target: "a/package-lock.json", Type: "npm", Packages: []inventory.Package{pkg, pkg}},
		{Target: "b/package-lock.json", Type: "npm", Packages: []inventory.Package{pkg, {Name: "x", Version: "1"}}},
	}}
	want := [][]string{
		{"pkg:npm/qs@6.7.0#a/package-lock.json", "pkg:npm/qs@6.7.0#a/package-lock.json#2"},
		{"pkg:npm/qs@6.7.0#b/package-lock.json", "vigil:npm:x@1"},
	}
	if got := PackageRefs(r); !reflect.DeepEqual(got, want) {
		t.Errorf("PackageRefs = %q, want %q", got, want)
	}
}

func TestRoots(t *testing.T) {
	res := report.Result{Packages: []inventory.Package{
		{ID: "a", DependsOn: []string{"b"}},
		{ID: "b", DependsOn: []string{"c", "b"}},
		{ID: "c"},
		{ID: "d", DependsOn: []string{"missing"}},
	}}
	if got := Roots(res); !reflect.DeepEqual(got, []int{0, 3}) {
		t.Errorf("Roots = %v, want [0 3]", got)
	}
	cycle := report.Result{Packages: []inventory.Package{{ID: "a", DependsOn: []string{"b"}}, {ID: "b", DependsOn: []string{"a"}}}}
	if got := Roots(cycle); !reflect.DeepEqual(got, []int{0, 1}) {
		t.Errorf("Roots(cycle) = %v, want [0 1]", got)
	}
}

func TestImagePurl(t *testing.T) {
	tests := []struct {
		a    inventory.Artifact
		want string
	}{
		{inventory.Artifact{Type: inventory.TypeContainerImage, RepoDigests: []string{"ghcr.io/Org/App@sha256:abc"}},
			"pkg:oci/app@sha256:abc?repository_url=ghcr.io%2FOrg%2FApp"},
		{inventory.Artifact{Type: inventory.TypeContainerImage, Platform: "linux/arm64/v8", RepoDigests: []string{"alpine@sha256:abc"}},
			"pkg:oci/alpine@sha256:abc?arch=arm64&repository_url=alpine"},
		{inventory.Artifact{Type: inventory.TypeContainerImage, RepoDigests: []string{"no-digest"}}, ""},
		{inventory.Artifact{Type: inventory.TypeFilesystem, RepoDigests: []string{"a@sha256:abc"}}, ""},
		{inventory.Artifact{Type: inventory.TypeContainerImage}, ""},
	}
	for _, tc := range tests {
		if got := ImagePurl(tc.a); got != tc.want {
			t.Errorf("ImagePurl(%+v) = %q, want %q", tc.a, got, tc.want)
		}
	}
	if got := UUIDv5([16]byte{}, []byte("x")); len(got) != 36 || got[14] != '5' {
		t.Errorf("UUIDv5 = %q", got)
	}
}
