package match

import (
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
)

func TestDistroEcosystem(t *testing.T) {
	tests := []struct {
		family, name string
		want         string
		ok           bool
	}{
		{"debian", "12", "debian:12", true},
		{"debian", "12.5", "debian:12", true},
		{"debian", "trixie/sid", "debian:sid", true},
		{"debian", "bookworm/sid", "debian:sid", true},
		{"debian", "sid", "debian:sid", true},
		{"debian", "bookworm", "debian:12", true},
		{"debian", "", "debian:", false},
		{"alpine", "3.19.1", "alpine:3.19", true},
		{"ubuntu", "22.04", "ubuntu:22.04", true},
		{"centos", "7.9.2009", "redhat:7", true},
		{"amazon", "2018.03", "amazon:1", true},
		{"wolfi", "20230201", "wolfi", true},
	}
	for _, tt := range tests {
		eco, _, ok := distroEcosystem(&inventory.OS{Family: tt.family, Name: tt.name})
		if eco != tt.want || ok != tt.ok {
			t.Errorf("%s %q: got %q, %v; want %q, %v", tt.family, tt.name, eco, ok, tt.want, tt.ok)
		}
	}
}
