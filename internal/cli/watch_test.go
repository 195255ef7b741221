package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/alert"
	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
)

// TestWatch runs `vigil watch` twice over a real registry: the first run
// alerts on the image's finding (a JSON line), the second on nothing.
func TestWatch(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{})
	reg.Push(t, "team/app:1", []string{"libcrypto3 3.1.4-r0 openssl"})
	cache := t.TempDir()
	regtest.WriteDB(t, filepath.Join(cache, "db"), regtest.Record{ID: "CVE-2024-0001", Pkg: "openssl", Fixed: "3.1.4-r5", Severity: "HIGH"})
	run := func() (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"--cache-dir", cache, "--quiet", "watch", "--registry", reg.Host, "--insecure", "--skip-db-update"},
			strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := run()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var a alert.Alert
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &a); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if a.ID != "CVE-2024-0001" || a.Repository != "team/app" || a.Reason != alert.ReasonNewImage || a.IdempotencyKey == "" || a.FixedVersion != "3.1.4-r5" {
		t.Errorf("alert = %+v", a)
	}
	if code, out, errs := run(); code != 0 || out != "" {
		t.Errorf("second run: exit %d, output %q, %s", code, out, errs)
	}
}
