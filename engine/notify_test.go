package engine

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
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
		{name: "harbor, tag only in the resource URL", body: `{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"resource_url":"harbor.example.com/lib/app:v2"}]}}`,
			want: []Push{{Registry: "harbor.example.com", Repository: "lib/app", Tag: "v2"}}},
		{name: "harbor, digest only in the resource URL", body: `{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"resource_url":"harbor.example.com/lib/app@` + dg + `"}]}}`,
			want: []Push{{Registry: "harbor.example.com", Repository: "lib/app", Digest: dg}}},
		{name: "harbor without tag or digest", body: `{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"resource_url":"harbor.example.com/lib/app"}]}}`, bad: true},
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

// TestParseHarbor reads Harbor webhook payloads shaped as Harbor sends
// them (its documentation and its formatters): the Default format, an
// artifact pushed by digest (Harbor then gives the digest as the tag, and
// the repository is nested), the CloudEvents format, and an event that is
// not a push.
func TestParseHarbor(t *testing.T) {
	const api = "sha256:76525f02955aec223342400a080c73024c995c9db1ba2eabf7505cf3bdf3f1f0"
	const busybox = "sha256:dde8e930c7b6a490f728e66292bc9bce42efc9bbb5278bae40e4f30f6e00fe8c"
	tests := []struct {
		file string
		want []Push
	}{
		{"harbor-push.json", []Push{{Registry: "harbor.example.com", Repository: "payments/api", Tag: "v1.4.2", Digest: api}}},
		{"harbor-push-by-digest.json", []Push{{Registry: "harbor.example.com:8443", Repository: "library/team/busybox", Digest: busybox}}},
		{"harbor-push-cloudevents.json", []Push{{Registry: "harbor.example.com", Repository: "payments/api", Tag: "latest", Digest: api}}},
		{"harbor-scan-completed.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "notify", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseNotification(body)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("pushes = %+v, want %+v", got, tt.want)
			}
		})
	}
	// A CloudEvent from anything but Harbor is not a notification vigil
	// reads.
	if _, err := ParseNotification([]byte(`{"specversion":"1.0","type":"com.example.thing","data":{}}`)); !errors.Is(err, ErrBadNotification) {
		t.Errorf("foreign CloudEvent: err = %v", err)
	}
}

// FuzzParseNotification: any body is pushes or ErrBadNotification, never
// a panic.
func FuzzParseNotification(f *testing.F) {
	for _, name := range []string{"harbor-push.json", "harbor-push-by-digest.json", "harbor-push-cloudevents.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "notify", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000001","repository":"a","tag":"1"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pushes, err := ParseNotification(b)
		if err != nil {
			if !errors.Is(err, ErrBadNotification) {
				t.Fatalf("error %v is not ErrBadNotification", err)
			}
			return
		}
		for _, p := range pushes {
			if p.Repository == "" || (p.Tag == "" && p.Digest == "") {
				t.Fatalf("incomplete push %+v", p)
			}
		}
	})
}

func TestWantRepo(t *testing.T) {
	tests := []struct {
		reg  Registry
		repo string
		want bool
	}{
		{Registry{Repositories: []string{"*"}}, "team/app", true}, // "*" alone: every repository
		{Registry{Repositories: []string{"*"}}, "app", true},
		{Registry{}, "team/a/b", true},
		{Registry{Repositories: []string{"team/*"}}, "team/app", true},
		{Registry{Repositories: []string{"team/*"}}, "team/a/b", false},
		{Registry{Repositories: []string{"team/**"}}, "team/a/b", true},
		{Registry{Repositories: []string{"*"}, Exclude: []string{"team/sandbox/**"}}, "team/sandbox/x", false},
		{Registry{List: []string{"team/app"}, Repositories: []string{"other/*"}}, "team/app", true}, // listed: no catalog glob
	}
	for _, tt := range tests {
		if got := tt.reg.wantRepo(tt.repo); got != tt.want {
			t.Errorf("repositories %q exclude %q: wantRepo(%q) = %v, want %v", tt.reg.Repositories, tt.reg.Exclude, tt.repo, got, tt.want)
		}
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
