package server

import (
	"testing"
)

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:8080\nregistries:\n  - url: r:5000\n    interval: 30s\n"))
	f.Add([]byte("alerts:\n  - type: webhook\n    url: http://h/x\n"))
	f.Add([]byte("tokens: [{name: a, scope: admin, hash: x}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseConfig("fuzz.yaml", data) // must not panic
	})
}
