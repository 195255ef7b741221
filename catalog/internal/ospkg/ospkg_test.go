package ospkg

import (
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
)

func TestSort(t *testing.T) {
	pkgs := []inventory.Package{
		{Name: "libssl3", Version: "3.0.11-1", Arch: "i386"},
		{Name: "zlib", Version: "1.2"},
		{Name: "libssl3", Version: "3.0.11-1", Arch: "amd64"},
		{Name: "bash", Version: "5.2"},
	}
	Sort(pkgs)
	want := []string{"bash@5.2", "libssl3@3.0.11-1?arch=amd64", "libssl3@3.0.11-1?arch=i386", "zlib@1.2"}
	for i, p := range pkgs {
		if p.ID != want[i] {
			t.Errorf("pkgs[%d].ID = %q, want %q", i, p.ID, want[i])
		}
	}
}

func TestNamespaceAndDistro(t *testing.T) {
	for _, tc := range []struct {
		os                *inventory.OS
		namespace, distro string
	}{
		{nil, "fallback", ""},
		{&inventory.OS{Family: "ubuntu", Name: "22.04"}, "ubuntu", "ubuntu-22.04"},
		{&inventory.OS{Family: "opensuse-tumbleweed", Name: "20240101"}, "opensuse", "opensuse-tumbleweed-20240101"},
		{&inventory.OS{Family: "rocky"}, "rocky", ""},
	} {
		if got := Namespace(tc.os, "fallback"); got != tc.namespace {
			t.Errorf("Namespace(%v) = %q, want %q", tc.os, got, tc.namespace)
		}
		if got := Distro(tc.os); got != tc.distro {
			t.Errorf("Distro(%v) = %q, want %q", tc.os, got, tc.distro)
		}
	}
}
