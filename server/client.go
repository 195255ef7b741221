package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
)

// Client matches inventories on a vigil server (client mode: `vigil image
// --server URL`), so a CI runner builds the inventory and downloads no
// database. It is an evaluate.Matcher: the policy is applied locally, by
// the same evaluate step as a local scan.
type Client struct {
	// URL is the server's base URL ("https://vigil.example.com").
	URL string
	// Token is a bearer token (read scope is enough).
	Token string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
}

// Match sends inv to POST /api/v1/match and returns the findings the
// server's database gives, attached to inv's results.
func (c *Client) Match(ctx context.Context, inv *inventory.Inventory) (*match.Result, error) {
	var body bytes.Buffer
	if err := report.WriteJSON(&body, report.FromInventory(inv), report.Options{ListAllPkgs: true}); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+APIVersion+"/match?format=json", &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("vigil server: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("vigil server: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e apiError
		json.Unmarshal(data, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(data[:min(len(data), 200)]))
		}
		return nil, fmt.Errorf("vigil server: %s: %s", resp.Status, e.Error)
	}
	rep, err := report.ReadJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("vigil server: reading the report: %w", err)
	}
	if len(rep.Results) != len(inv.Results) {
		return nil, fmt.Errorf("vigil server: answered %d results for an inventory of %d", len(rep.Results), len(inv.Results))
	}
	res := &match.Result{Findings: make([][]match.Finding, len(rep.Results))}
	for i := range rep.Results {
		if rep.Results[i].Target != inv.Results[i].Target {
			return nil, fmt.Errorf("vigil server: result %d is %q, not %q", i, rep.Results[i].Target, inv.Results[i].Target)
		}
		res.Findings[i] = rep.Results[i].Vulnerabilities
	}
	// The server's report repeats the inventory's warnings; the others are
	// its matcher's.
	sent := map[inventory.Warning]int{}
	for _, w := range inv.Warnings {
		sent[w]++
	}
	for _, w := range rep.Warnings {
		if sent[w] > 0 {
			sent[w]--
			continue
		}
		res.Warnings = append(res.Warnings, w)
	}
	if n := resp.Header.Get("X-Vigil-Notes"); n != "" {
		json.Unmarshal([]byte(n), &res.Notes)
	}
	return res, nil
}
