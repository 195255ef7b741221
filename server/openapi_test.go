package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-scanner/vigil/internal/testutil"
)

// TestOpenAPIDocumentsEveryRoute keeps docs/openapi.yaml in step with the
// handler: every route is described, with its method.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	s := &Server{}
	for _, rt := range s.routes() {
		ops, ok := doc.Paths[rt.path]
		if !ok {
			t.Errorf("docs/openapi.yaml lacks %s", rt.path)
			continue
		}
		if _, ok := ops[strings.ToLower(rt.method)]; !ok {
			t.Errorf("docs/openapi.yaml lacks %s %s", rt.method, rt.path)
		}
	}
	if len(doc.Paths) != len(s.routes()) {
		t.Errorf("docs/openapi.yaml has %d paths, the server %d routes", len(doc.Paths), len(s.routes()))
	}
}
