package engine

import (
	"errors"
	"strings"
	"testing"
)

func TestParseNotification(t *testing.T) {
	const dg = "sha256:0000000000000000000000000000000000000000000000000000000000000001"
	tests := []struct {
		name, body string
		want       []Push
		bad        bool
	}{
		{name: "distribution push", body: `{"events":[
			{"action":"push","target":{"mediaType":"application/octet-stream","digest":"` + dg + `","repository":"team/app","url":"http://r:5000/v2/team/app/blobs/` + dg + `"},"request":{"host":"r:5000"}},
			{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dg + `","repository":"team/app","url":"http://r:5000/v2/team/app/manifests/` + dg + `","tag":"1.0"},"request":{"host":"r:5000"}},
			{"action":"pull","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dg + `","repository":"team/app"}}]}`,
			want: []Push{{Registry: "r:5000", Repository: "team/app", Tag: "1.0", Digest: dg}}},
		{name: "harbor", body: `{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"digest":"` + dg + `","tag":"v1","resource_url":"harbor.example.com/lib/app:v1"}]}}`,
			want: []Push{{Registry: "harbor.example.com", Repository: "lib/app", Tag: "v1", Digest: dg}}},
		{name: "harbor other event", body: `{"type":"DELETE_ARTIFACT","event_data":{}}`},
		{name: "bad repository", body: `{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dg + `","repository":"UPPER/../x","tag":"1"}}]}`, bad: true},
		{name: "bad digest", body: `{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"md5:1","repository":"a","tag":"1"}}]}`, bad: true},
		{name: "not json", body: `{"events": [`, bad: true},
		{name: "other json", body: `{"hello":1}`, bad: true},
		{name: "oversized", body: `{"events":[]` + strings.Repeat(" ", MaxNotification) + `}`, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNotification([]byte(tt.body))
			if tt.bad {
				if !errors.Is(err, ErrBadNotification) {
					t.Fatalf("err = %v, want ErrBadNotification", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("push %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestTagFilter(t *testing.T) {
	tags := []string{"1.0.0", "1.2.0", "v1.10.0", "latest", "1.2.0-rc1", "dev-abc"}
	f := TagFilter{Newest: 2, By: BySemver}
	if got := f.choose(tags); strings.Join(got, ",") != "v1.10.0,1.2.0" {
		t.Errorf("newest 2 by semver = %q", got)
	}
	f = TagFilter{Exclude: []string{"dev-*"}, Include: []string{"*"}}
	if got := f.choose(tags); len(got) != 5 {
		t.Errorf("exclude dev-* = %q", got)
	}
}
