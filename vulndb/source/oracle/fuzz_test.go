package oracle

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

// FuzzParse reads the input as the uncompressed OVAL document (Load only
// adds the bzip2 reader in front).
func FuzzParse(f *testing.F) {
	vulndbtest.AddFiles(f, "testdata/elsa.xml")
	f.Fuzz(func(t *testing.T, data string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		src := New(Options{Logger: slog.New(slog.DiscardHandler)})
		_ = src.parse(ctx, strings.NewReader(data), &vulndbtest.ValidSink{T: t})
		if ctx.Err() != nil {
			t.Fatal("parse ran past its time")
		}
	})
}
