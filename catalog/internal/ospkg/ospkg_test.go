package ospkg

import (
	"errors"
	"fmt"
	"testing"

	"github.com/vigil-scanner/vigil/catalog"
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

func TestProblems(t *testing.T) {
	for _, tc := range []struct {
		name     string
		problems int
		read     int
		err      string
		warning  string
	}{
		{"clean", 0, 3, "", ""},
		{"clean and empty", 0, 0, "", ""},
		{"nothing read", 5, 0, "dpkg: var/lib/dpkg/status: nothing could be read: line 1: bad; line 2: bad; line 3: bad; and 2 more", ""},
		{"read in part", 1, 7, "", `"var/lib/dpkg/status": dpkg: database read in part (1 problems); the 7 entries read are kept: line 1: bad`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewProblems("dpkg", "var/lib/dpkg/status")
			for i := range tc.problems {
				p.Add(fmt.Sprintf("line %d", i+1), errors.New("bad"))
			}
			var ws []string
			err := p.Done(catalog.Env{Warned: func(w inventory.Warning) { ws = append(ws, w.String()) }}, tc.read)
			if got := fmt.Sprint(err); tc.err != "" && got != tc.err || tc.err == "" && err != nil {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
			if tc.warning == "" && len(ws) > 0 || tc.warning != "" && (len(ws) != 1 || ws[0] != tc.warning) {
				t.Errorf("warnings = %q, want %q", ws, tc.warning)
			}
		})
	}
}

func TestAbsent(t *testing.T) {
	unreadable := map[string]string{
		"var/lib/dpkg/status":     "fifo where a regular file is expected",
		"var/lib/dpkg/status.d/x": "directory where a regular file is expected",
		"var/lib/rpm":             "open var/lib/rpm: permission denied",
	}
	env := catalog.Env{Unreadable: func(p string) (string, string) {
		for u, what := range unreadable {
			if u == p || len(u) > len(p) && u[:len(p)+1] == p+"/" || len(p) > len(u) && p[:len(u)+1] == u+"/" {
				return u, what
			}
		}
		return "", ""
	}}
	for _, tc := range []struct{ path, want string }{
		{"lib/apk/db/installed", ""},
		{"var/lib/dpkg/status", "dpkg: var/lib/dpkg/status: exists but cannot be read: fifo where a regular file is expected"},
		{"var/lib/dpkg/status.d", "dpkg: var/lib/dpkg/status.d/x: exists but cannot be read: directory where a regular file is expected"},
		{"var/lib/rpm/Packages", "dpkg: var/lib/rpm/Packages: cannot tell whether it exists: var/lib/rpm: open var/lib/rpm: permission denied"},
	} {
		err := Absent(env, "dpkg", tc.path)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
			t.Errorf("Absent(%s) = %v, want %q", tc.path, err, tc.want)
		}
	}
	if err := Absent(catalog.Env{}, "dpkg", "var/lib/dpkg/status"); err != nil {
		t.Errorf("Absent without Unreadable = %v", err)
	}
}
