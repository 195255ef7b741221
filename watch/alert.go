package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/vigil-scanner/vigil/vulndb"
)

// Alert reasons.
const (
	// ReasonNewImage: the finding is in an image the watch had not seen.
	ReasonNewImage = "new image"
	// ReasonDatabaseUpdate: the finding is in an image seen before and
	// appeared when the vulnerability database changed.
	ReasonDatabaseUpdate = "database update"
)

// Alert is one finding new to one image.
type Alert struct {
	Time time.Time `json:"time"`
	// Image is "repository:tag@digest"; when several tags name the
	// digest, the first in sorted order.
	Image            string        `json:"image"`
	ID               string        `json:"id"`
	Package          string        `json:"package"`
	InstalledVersion string        `json:"installedVersion"`
	FixedVersion     string        `json:"fixedVersion,omitempty"`
	Severity         string        `json:"severity"`
	Status           vulndb.Status `json:"status"`
	Reason           string        `json:"reason"`
}

// writeLines writes alerts to w as JSON lines.
func writeLines(w io.Writer, alerts []Alert) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range alerts {
		if err := enc.Encode(&alerts[i]); err != nil {
			return fmt.Errorf("writing alerts: %w", err)
		}
	}
	return nil
}

// Webhook delivery limits.
const (
	webhookBatch    = 500 // alerts per request
	webhookAttempts = 3
	webhookTimeout  = 10 * time.Second // per attempt
)

// webhookBody is what each POST carries.
type webhookBody struct {
	Alerts []Alert `json:"alerts"`
}

// postWebhook POSTs alerts to url as JSON, {"alerts": [...]}, in batches of
// webhookBatch. A request that fails with a network error, 429 or a 5xx
// status is retried up to webhookAttempts times with a growing pause.
func postWebhook(ctx context.Context, client *http.Client, url string, alerts []Alert, pause time.Duration) error {
	for len(alerts) > 0 {
		n := min(len(alerts), webhookBatch)
		body, err := json.Marshal(webhookBody{Alerts: alerts[:n]})
		if err != nil {
			return err
		}
		if err := postRetrying(ctx, client, url, body, pause); err != nil {
			return err
		}
		alerts = alerts[n:]
	}
	return nil
}

func postRetrying(ctx context.Context, client *http.Client, url string, body []byte, pause time.Duration) error {
	var err error
	for attempt := 1; ; attempt++ {
		var retry bool
		retry, err = post(ctx, client, url, body)
		if err == nil || !retry || attempt == webhookAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause * time.Duration(attempt)):
		}
	}
	if err != nil {
		return fmt.Errorf("webhook %s: %w", url, err)
	}
	return nil
}

// post sends one request and says whether a failure is worth retrying.
func post(ctx context.Context, client *http.Client, url string, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigil-watch")
	resp, err := client.Do(req)
	if err != nil {
		return true, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	retry = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return retry, fmt.Errorf("status %s", resp.Status)
}
