package node

import (
	"fmt"
	"os"
	"testing"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
)

func TestDump(t *testing.T) {
	dir := os.Getenv("DUMP")
	if dir == "" {
		t.Skip()
	}
	res, logs := langtest.Run(t, New(), os.DirFS(dir), catalog.Env{})
	fmt.Println(logs.Lines())
	for _, r := range res {
		for _, p := range r.Packages {
			fmt.Printf("%s\t%s\t%s\t%v\n", r.Target, p.ID, flags(p), p.DependsOn)
		}
	}
}
