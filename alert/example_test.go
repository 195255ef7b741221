package alert_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/vigil-scanner/vigil/alert"
)

// A webhook receiver checks the signature over the raw body and the
// timestamp before it decodes the alerts.
func ExampleVerify() {
	ctx := context.Background()
	const secret = "whsec_example"
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 10<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		err = alert.Verify(secret, r.Header.Get(alert.HeaderTimestamp), body, r.Header.Get(alert.HeaderSignature), 5*time.Minute)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var b alert.Body
		if err := json.Unmarshal(body, &b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, a := range b.Alerts {
			fmt.Println(a.Reason, a.ID, a.Package, a.InstalledVersion, "in", a.Image)
		}
	}))
	defer receiver.Close()

	route := alert.Route{Type: alert.TypeWebhook, URL: receiver.URL, Secret: secret}
	s, err := alert.NewSender(route, alert.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = s.Send(ctx, []alert.Alert{{
		Reason: alert.ReasonNewAdvisory, Image: "registry.example.com/team/app:1.4", Repository: "team/app",
		Digest: "sha256:4f8a", ID: "CVE-2024-3094", Package: "xz-libs", InstalledVersion: "5.6.0-r0", Severity: "CRITICAL",
	}})
	fmt.Println("sent:", err == nil)

	// A request signed with another secret is refused, permanently.
	route.Secret = "wrong"
	s, _ = alert.NewSender(route, alert.Options{})
	err = s.Send(ctx, []alert.Alert{{ID: "CVE-2024-3094"}})
	fmt.Println("permanent:", alert.IsPermanent(err))
	// Output:
	// new advisory CVE-2024-3094 xz-libs 5.6.0-r0 in registry.example.com/team/app:1.4
	// sent: true
	// permanent: true
}
