package server

import (
	"testing"

	"github.com/vigil-scanner/vigil/engine"
)

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:8080\nregistries:\n  - url: r:5000\n    interval: 30s\n"))
	f.Add([]byte("alerts:\n  - type: webhook\n    url: http://h/x\n"))
	f.Add([]byte("tokens: [{name: a, scope: admin, hash: x}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseConfig("fuzz.yaml", data) // must not panic
	})
}

func FuzzParseNotification(f *testing.F) {
	f.Add([]byte(`{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","repository":"a/b","url":"http://r:5000/v2/a/b/manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000","tag":"1"},"request":{"host":"r:5000"}}]}`))
	f.Add([]byte(`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","tag":"v1","resource_url":"harbor.example.com/lib/app:v1"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pushes, err := engine.ParseNotification(data)
		if err != nil {
			return
		}
		for _, p := range pushes {
			if p.Repository == "" || (p.Tag == "" && p.Digest == "") {
				t.Fatalf("incomplete push %+v", p)
			}
		}
	})
}
