package distro_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vigil-scanner/vigil/distro"
	"github.com/vigil-scanner/vigil/inventory"
)

// scanDate is the injected clock for EOSL.
var scanDate = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

func TestDetect(t *testing.T) {
	tests := []struct {
		dir  string
		want *inventory.OS // nil: not detected
	}{
		{"alpine-3.10", &inventory.OS{Family: "alpine", Name: "3.10.4", PrettyName: "Alpine Linux v3.10", EOSL: true, EOSLDate: "2021-05-01"}},
		{"alpine-3.19-no-osrelease", &inventory.OS{Family: "alpine", Name: "3.19.1", EOSLDate: "2025-11-01"}},
		{"alpine-edge", &inventory.OS{Family: "alpine", Name: "3.21.0_alpha20240807", PrettyName: "Alpine Linux edge"}},
		{"wolfi", &inventory.OS{Family: "wolfi", Name: "20230201", PrettyName: "Wolfi"}},
		{"chainguard", &inventory.OS{Family: "chainguard", Name: "20230214", PrettyName: "Chainguard"}},
		{"debian-12", &inventory.OS{Family: "debian", Name: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)", EOSLDate: "2028-06-30"}},
		{"debian-9", &inventory.OS{Family: "debian", Name: "9", PrettyName: "Debian GNU/Linux 9 (stretch)", EOSL: true, EOSLDate: "2022-06-30"}},
		{"debian-sid", &inventory.OS{Family: "debian", Name: "trixie/sid", PrettyName: "Debian GNU/Linux trixie/sid"}},
		{"distroless-debian", &inventory.OS{Family: "debian", Name: "12", PrettyName: "Distroless", EOSLDate: "2028-06-30"}},
		{"distroless-debian-only-version", &inventory.OS{Family: "debian", Name: "11", EOSLDate: "2026-08-31"}},
		{"ubuntu-22.04", &inventory.OS{Family: "ubuntu", Name: "22.04", PrettyName: "Ubuntu 22.04.4 LTS", EOSLDate: "2027-05-31"}},
		{"ubuntu-14.04-lsb", &inventory.OS{Family: "ubuntu", Name: "14.04", PrettyName: "Ubuntu 14.04.6 LTS", EOSL: true, EOSLDate: "2019-04-30"}},
		{"ubi-9", &inventory.OS{Family: "redhat", Name: "9.3", PrettyName: "Red Hat Enterprise Linux 9.3 (Plow)", EOSLDate: "2032-05-31"}},
		{"rhel-7-release-only", &inventory.OS{Family: "redhat", Name: "7.9", EOSL: true, EOSLDate: "2024-06-30"}},
		{"centos-7", &inventory.OS{Family: "centos", Name: "7.9.2009", PrettyName: "CentOS Linux 7 (Core)", EOSL: true, EOSLDate: "2024-06-30"}},
		{"centos-6-release-only", &inventory.OS{Family: "centos", Name: "6.10", EOSL: true, EOSLDate: "2020-11-30"}},
		{"rocky-9", &inventory.OS{Family: "rocky", Name: "9.3", PrettyName: "Rocky Linux 9.3 (Blue Onyx)", EOSLDate: "2032-05-31"}},
		{"rocky-8-release-only", &inventory.OS{Family: "rocky", Name: "8.9", EOSLDate: "2029-05-31"}},
		{"alma-8", &inventory.OS{Family: "alma", Name: "8.9", PrettyName: "AlmaLinux 8.9 (Midnight Oncilla)", EOSLDate: "2029-03-01"}},
		{"alma-9-release-only", &inventory.OS{Family: "alma", Name: "9.3", EOSLDate: "2032-05-31"}},
		{"oracle-8", &inventory.OS{Family: "oracle", Name: "8.9", PrettyName: "Oracle Linux Server 8.9", EOSLDate: "2029-07-31"}},
		{"oracle-7-release-only", &inventory.OS{Family: "oracle", Name: "7.9", EOSL: true, EOSLDate: "2024-12-31"}},
		{"amazon-2", &inventory.OS{Family: "amazon", Name: "2", PrettyName: "Amazon Linux 2", EOSLDate: "2026-06-30"}},
		{"amazon-2023", &inventory.OS{Family: "amazon", Name: "2023", PrettyName: "Amazon Linux 2023.3.20240131", EOSLDate: "2029-06-30"}},
		{"amazon-1-release-only", &inventory.OS{Family: "amazon", Name: "2018.03", EOSL: true, EOSLDate: "2023-12-31"}},
		{"fedora-39", &inventory.OS{Family: "fedora", Name: "39", PrettyName: "Fedora Linux 39 (Container Image)", EOSL: true, EOSLDate: "2024-11-26"}},
		{"opensuse-leap-15.5", &inventory.OS{Family: "opensuse-leap", Name: "15.5", PrettyName: "openSUSE Leap 15.5", EOSL: true, EOSLDate: "2024-12-31"}},
		{"opensuse-42.3", &inventory.OS{Family: "opensuse-leap", Name: "42.3", PrettyName: "openSUSE Leap 42.3", EOSL: true, EOSLDate: "2019-07-01"}},
		{"opensuse-tumbleweed", &inventory.OS{Family: "opensuse-tumbleweed", Name: "20240320", PrettyName: "openSUSE Tumbleweed"}},
		{"sles-15.5", &inventory.OS{Family: "sles", Name: "15.5", PrettyName: "SUSE Linux Enterprise Server 15 SP5", EOSL: true, EOSLDate: "2024-12-31"}},
		{"sles-12-suse-release", &inventory.OS{Family: "sles", Name: "12.5", EOSL: true, EOSLDate: "2024-10-31"}},
		{"photon-5", &inventory.OS{Family: "photon", Name: "5.0", PrettyName: "VMware Photon OS/Linux"}},
		{"photon-3-release-only", &inventory.OS{Family: "photon", Name: "3.0", EOSL: true, EOSLDate: "2024-03-01"}},
		{"azurelinux-3", &inventory.OS{Family: "azurelinux", Name: "3.0", PrettyName: "Microsoft Azure Linux 3.0"}},
		{"cbl-mariner-2", &inventory.OS{Family: "cbl-mariner", Name: "2.0", PrettyName: "CBL-Mariner/Linux", EOSLDate: "2025-07-31"}},
		{"unknown-derivative", nil},
		{"empty", nil},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			got, err := distro.DetectAt(os.DirFS(filepath.Join("testdata", tc.dir)), scanDate)
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Errorf("DetectAt = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestWantsCoversDetect(t *testing.T) {
	// Detect must read nothing Wants refuses: record every file it opens.
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fsys := recordFS{FS: os.DirFS(filepath.Join("testdata", e.Name())), t: t}
		if _, err := distro.DetectAt(fsys, scanDate); err != nil {
			t.Errorf("%s: %v", e.Name(), err)
		}
	}
}

type recordFS struct {
	fs.FS
	t *testing.T
}

func (r recordFS) Open(name string) (fs.File, error) {
	if !distro.Wants(name) {
		r.t.Errorf("Detect opened %s, which Wants refuses", name)
	}
	return r.FS.Open(name)
}

func TestSymlinkedOSRelease(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/os-release":     {Data: []byte("../usr/lib/os-release"), Mode: fs.ModeSymlink},
		"usr/lib/os-release": {Data: []byte("ID=debian\nVERSION_ID=\"12\"\n")},
	}
	got, err := distro.DetectAt(fsys, scanDate)
	if err != nil || got == nil || got.Family != "debian" || got.Name != "12" {
		t.Fatalf("DetectAt = %+v, %v; want debian 12", got, err)
	}
}

func TestDebianRelease(t *testing.T) {
	for code, want := range map[string]string{"bookworm": "12", "trixie": "13", "forky": "14", "sid": "sid", "buzz": "1.1", "jessie": "8"} {
		if got, ok := distro.DebianRelease(code); !ok || got != want {
			t.Errorf("DebianRelease(%q) = %q, %v", code, got, ok)
		}
	}
	if _, ok := distro.DebianRelease("experimental"); ok {
		t.Error("experimental is known")
	}
}
