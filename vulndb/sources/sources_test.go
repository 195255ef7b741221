package sources

import (
	"slices"
	"testing"

	"github.com/vigil-scanner/vigil/vulndb"
)

func names(srcs []vulndb.Source) []string {
	var out []string
	for _, s := range srcs {
		out = append(out, s.Name())
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		spec    string
		want    []string
		wantErr bool
	}{
		{spec: "osv:Go, osv:PyPI", want: []string{"osv:Go", "osv:PyPI"}},
		{spec: "osv,osv", want: []string{"osv"}},
		{spec: "all", want: names(All(nil))},
		{spec: "osv:Rocky Linux", want: []string{"osv:Rocky Linux"}},
		{spec: "nope", wantErr: true},
		{spec: "osv:", wantErr: true},
		{spec: " , ", wantErr: true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.spec, nil)
		if (err != nil) != tt.wantErr {
			t.Errorf("Parse(%q) error = %v, wantErr %v", tt.spec, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !slices.Equal(names(got), tt.want) {
			t.Errorf("Parse(%q) = %v, want %v", tt.spec, names(got), tt.want)
		}
	}
}
