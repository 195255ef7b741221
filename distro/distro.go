// Package distro detects the operating-system release of a filesystem tree
// from /etc/os-release and the distribution-specific release files.
package distro

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-scanner/vigil/inventory"
)

// maxReleaseFile bounds how much of any release file is read.
const maxReleaseFile = 64 << 10

// Release files, relative to the root.
const (
	osRelease    = "etc/os-release"
	usrOSRelease = "usr/lib/os-release"
	alpine       = "etc/alpine-release"
	debian       = "etc/debian_version"
	lsbRelease   = "etc/lsb-release"
	redhat       = "etc/redhat-release"
	centos       = "etc/centos-release"
	rocky        = "etc/rocky-release"
	alma         = "etc/almalinux-release"
	oracle       = "etc/oracle-release"
	fedora       = "etc/fedora-release"
	system       = "etc/system-release"
	photon       = "etc/photon-release"
	suse         = "etc/SuSE-release"
)

// Wants reports whether path is a file Detect reads.
func Wants(path string) bool {
	switch path {
	case osRelease, usrOSRelease, alpine, debian, lsbRelease, redhat, centos, rocky, alma,
		oracle, fedora, system, photon, suse:
		return true
	}
	return false
}

// Detect returns the operating-system release of fsys, or nil when it
// cannot be told; EOSL is judged against the current time.
func Detect(fsys fs.FS) (*inventory.OS, error) {
	return DetectAt(fsys, time.Now())
}

// DetectAt is Detect with EOSL judged against now.
func DetectAt(fsys fs.FS, now time.Time) (*inventory.OS, error) {
	d := detector{fsys: fsys}
	os := d.detect()
	if d.err != nil {
		return nil, d.err
	}
	if os == nil || os.Name == "" {
		return nil, nil
	}
	if date, ok := EOSLDate(os.Family, os.Name); ok {
		os.EOSLDate = date
		end, _ := time.Parse(time.DateOnly, date)
		os.EOSL = !now.Before(end)
	}
	return os, nil
}

// detector reads release files, remembering the first unexpected error.
type detector struct {
	fsys fs.FS
	err  error
}

// read returns the contents of name, or nil when it is absent or
// unreadable as a file.
func (d *detector) read(name string) []byte {
	f, err := d.fsys.Open(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid) && d.err == nil {
			d.err = fmt.Errorf("reading %s: %w", name, err)
		}
		return nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(f, maxReleaseFile))
	if err != nil {
		if d.err == nil {
			d.err = fmt.Errorf("reading %s: %w", name, err)
		}
		return nil
	}
	return b
}

func (d *detector) detect() *inventory.OS {
	kv := parseKV(d.read(osRelease))
	if kv == nil {
		kv = parseKV(d.read(usrOSRelease))
	}
	if kv != nil {
		if os := d.fromOSRelease(kv); os != nil {
			return os
		}
	}
	return d.fromReleaseFiles()
}

// osReleaseIDs maps os-release ID values to vigil's family names.
var osReleaseIDs = map[string]string{
	"alpine":              "alpine",
	"wolfi":               "wolfi",
	"chainguard":          "chainguard",
	"debian":              "debian",
	"ubuntu":              "ubuntu",
	"rhel":                "redhat",
	"centos":              "centos",
	"rocky":               "rocky",
	"almalinux":           "alma",
	"ol":                  "oracle",
	"amzn":                "amazon",
	"fedora":              "fedora",
	"opensuse-leap":       "opensuse-leap",
	"opensuse":            "opensuse-leap", // Leap 42.x
	"opensuse-tumbleweed": "opensuse-tumbleweed",
	"sles":                "sles",
	"sles_sap":            "sles",
	"photon":              "photon",
	"azurelinux":          "azurelinux",
	"mariner":             "cbl-mariner",
}

func (d *detector) fromOSRelease(kv map[string]string) *inventory.OS {
	family, ok := osReleaseIDs[kv["ID"]]
	if !ok {
		return nil
	}
	if family == "opensuse-leap" && strings.Contains(kv["NAME"], "Tumbleweed") {
		family = "opensuse-tumbleweed"
	}
	os := &inventory.OS{Family: family, Name: kv["VERSION_ID"], PrettyName: kv["PRETTY_NAME"]}
	switch family {
	case "debian":
		if os.Name == "" { // testing and unstable have no VERSION_ID
			if v := firstLine(d.read(debian)); v != "" {
				os.Name = v
			} else {
				os.Name = kv["VERSION_CODENAME"]
			}
		}
	case "centos":
		// centos-release carries the full version ("7.9.2009").
		if f, v := rpmRelease(d.read(centos)); f == "centos" && v != "" {
			os.Name = v
		}
	case "alpine":
		if v := firstLine(d.read(alpine)); v != "" {
			os.Name = v
		}
	}
	return os
}

func (d *detector) fromReleaseFiles() *inventory.OS {
	if v := firstLine(d.read(alpine)); v != "" {
		return &inventory.OS{Family: "alpine", Name: v}
	}
	for _, name := range []string{centos, rocky, alma, oracle, fedora, system, redhat} {
		if f, v := rpmRelease(d.read(name)); f != "" && v != "" {
			return &inventory.OS{Family: f, Name: v}
		}
	}
	if kv := parseKV(d.read(lsbRelease)); kv["DISTRIB_ID"] == "Ubuntu" && kv["DISTRIB_RELEASE"] != "" {
		return &inventory.OS{Family: "ubuntu", Name: kv["DISTRIB_RELEASE"], PrettyName: kv["DISTRIB_DESCRIPTION"]}
	}
	if v := firstLine(d.read(debian)); v != "" {
		// "11.9" → "11", as os-release says; "bookworm/sid" stays.
		if major, _, ok := strings.Cut(v, "."); ok && isDigits(major) {
			v = major
		}
		return &inventory.OS{Family: "debian", Name: v}
	}
	if b := d.read(photon); b != nil {
		if m := photonRe.FindSubmatch(b); m != nil {
			return &inventory.OS{Family: "photon", Name: string(m[1])}
		}
	}
	if b := d.read(suse); b != nil {
		return suseRelease(b)
	}
	return nil
}

var (
	rpmReleaseRe = regexp.MustCompile(`release (\d+(?:\.\d+)*)`)
	photonRe     = regexp.MustCompile(`Photon OS (\d+\.\d+)`)
	suseKVRe     = regexp.MustCompile(`(?m)^(VERSION|PATCHLEVEL)\s*=\s*(\S+)`)
)

// rpmRelease reads a *-release file of the Red Hat family ("Rocky Linux
// release 9.3 (Blue Onyx)") into a family and version.
func rpmRelease(b []byte) (family, version string) {
	line := firstLine(b)
	m := rpmReleaseRe.FindStringSubmatch(line)
	if m == nil {
		return "", ""
	}
	version = m[1]
	switch {
	case strings.HasPrefix(line, "CentOS"):
		family = "centos"
	case strings.HasPrefix(line, "Rocky"):
		family = "rocky"
	case strings.HasPrefix(line, "AlmaLinux"):
		family = "alma"
	case strings.HasPrefix(line, "Oracle"):
		family = "oracle"
	case strings.HasPrefix(line, "Fedora"):
		family = "fedora"
	case strings.HasPrefix(line, "Red Hat Enterprise Linux"):
		family = "redhat"
	case strings.HasPrefix(line, "Amazon Linux"):
		family = "amazon"
		// Amazon Linux 2023 and later write "2023.3.20240131": the
		// release is the year. Amazon Linux 1 versions ("2018.03") stay.
		if y, _, ok := strings.Cut(version, "."); ok && len(y) == 4 && y >= "2022" {
			version = y
		}
	}
	return family, version
}

// suseRelease reads the deprecated /etc/SuSE-release.
func suseRelease(b []byte) *inventory.OS {
	line := firstLine(b)
	var version, patch string
	for _, m := range suseKVRe.FindAllSubmatch(b, -1) {
		if string(m[1]) == "VERSION" {
			version = string(m[2])
		} else {
			patch = string(m[2])
		}
	}
	if version == "" {
		return nil
	}
	if patch != "" && patch != "0" {
		version += "." + patch
	}
	switch {
	case strings.Contains(line, "openSUSE"):
		return &inventory.OS{Family: "opensuse-leap", Name: version}
	case strings.Contains(line, "SUSE Linux Enterprise Server"):
		return &inventory.OS{Family: "sles", Name: version}
	}
	return nil
}

// parseKV parses the shell-like KEY=value lines of os-release and
// lsb-release. It returns nil for nil input.
func parseKV(b []byte) map[string]string {
	if b == nil {
		return nil
	}
	kv := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		kv[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
	}
	return kv
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		if v[0] == '"' {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
		}
		return v[1 : len(v)-1]
	}
	return v
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return strings.TrimSpace(string(line))
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
