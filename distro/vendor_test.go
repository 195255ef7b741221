package distro

import (
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
)

func TestFromVendor(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    inventory.Package
		want bool
	}{
		{"rhel", inventory.Package{Purl: "pkg:rpm/redhat/openssl-libs@3.0.7-18.el9_2", Vendor: "Red Hat, Inc."}, true},
		{"rocky", inventory.Package{Purl: "pkg:rpm/rocky/bash@5.1.8-6.el9", Vendor: "Rocky Enterprise Software Foundation"}, true},
		{"amazon without vendor", inventory.Package{Purl: "pkg:rpm/amazon/bash@4.2.46-34.amzn2", Version: "4.2.46-34.amzn2"}, true},
		{"no vendor", inventory.Package{Purl: "pkg:rpm/redhat/custom@1.0-1", Version: "1.0-1"}, false},
		{"epel", inventory.Package{Purl: "pkg:rpm/redhat/htop@3.2.1-1.el9", Vendor: "Fedora Project"}, true},
		{"docker rpm", inventory.Package{Purl: "pkg:rpm/redhat/containerd.io@1.6.9-3.1.el9", Vendor: "Docker"}, false},
		{"debian", inventory.Package{Purl: "pkg:deb/debian/bash@5.2.15-2", Maintainer: "Matthias Klose <doko@debian.org>"}, true},
		{"nodesource", inventory.Package{Purl: "pkg:deb/debian/nodejs@20.11.0-1nodesource1", Maintainer: "NodeSource <gpg@nodesource.com>"}, false},
		{"docker deb", inventory.Package{Purl: "pkg:deb/debian/docker-ce@5:25.0.3-1~debian.12~bookworm", Maintainer: "Docker <support@docker.com>"}, false},
		{"debian developer at a vendor", inventory.Package{Purl: "pkg:deb/debian/golang-1.19@1.19.8-2", Maintainer: "Debian Go Compiler Team <team+go-compiler@tracker.debian.org>"}, true},
		{"maintainer address at google", inventory.Package{Purl: "pkg:deb/debian/foo@1.0-1", Maintainer: "Jane Doe <jane@google.com>"}, true},
		{"apk", inventory.Package{Purl: "pkg:apk/alpine/musl@1.2.4-r2"}, true},
	} {
		if got := FromVendor(&tt.p); got != tt.want {
			t.Errorf("%s: FromVendor = %v, want %v", tt.name, got, tt.want)
		}
	}
}
