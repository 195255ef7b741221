package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-scanner/vigil/alert"
	"github.com/vigil-scanner/vigil/store"
)

// deliverLoop delivers due alerts until ctx is done.
func (e *Engine) deliverLoop(ctx context.Context) {
	for ctx.Err() == nil {
		sent, failed, err := e.deliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Error("alert delivery", "err", err)
		}
		if sent+failed > 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// deliverDue claims the due alerts of one route and sends them, one
// message per event (the scan or database change that raised them). A
// failure that can be retried puts the entries back with a backoff; a
// permanent one (4xx but 429) parks them. Other routes are not held up:
// each claim takes the route whose alerts are due first.
func (e *Engine) deliverDue(ctx context.Context) (sent, failed int, err error) {
	entries, err := e.st.ClaimAlerts(ctx, e.opts.Owner, e.opts.Now(), e.opts.Lease, e.opts.AlertBatch)
	if err != nil || len(entries) == 0 {
		return 0, 0, err
	}
	route := e.routes[entries[0].Route]
	var order []string
	byEvent := map[string][]store.OutboxEntry{}
	for _, en := range entries {
		if _, ok := byEvent[en.Event]; !ok {
			order = append(order, en.Event)
		}
		byEvent[en.Event] = append(byEvent[en.Event], en)
	}
	for _, ev := range order {
		batch := byEvent[ev]
		ids := make([]int64, len(batch))
		for i, en := range batch {
			ids[i] = en.ID
		}
		if route == nil {
			err := fmt.Errorf("alert route %q is no longer configured", batch[0].Route)
			failed += len(batch)
			if ferr := e.st.AlertsFailed(ctx, e.opts.Owner, ids, e.opts.Now(), err, true); ferr != nil {
				return sent, failed, ferr
			}
			continue
		}
		alerts := make([]alert.Alert, 0, len(batch))
		for _, en := range batch {
			var a alert.Alert
			if err := json.Unmarshal([]byte(en.Payload), &a); err != nil {
				return sent, failed, fmt.Errorf("outbox entry %d: %w", en.ID, err)
			}
			alerts = append(alerts, a)
		}
		serr := route.Sender.Send(ctx, alerts)
		if ctx.Err() != nil {
			return sent, failed, ctx.Err() // the leases expire; sent again later
		}
		if serr == nil {
			if err := e.st.AlertsSent(ctx, e.opts.Owner, e.opts.Now(), ids); err != nil {
				return sent, failed, err
			}
			sent += len(batch)
			e.metrics.AlertsSent.Add(int64(len(batch)))
			e.log.Info("alerts sent", "route", route.Name, "alerts", len(batch))
			continue
		}
		failed += len(batch)
		e.metrics.AlertsFailed.Add(int64(len(batch)))
		park := alert.IsPermanent(serr)
		wait := e.opts.Backoff(batch[0].Attempts)
		if d, ok := alert.RetryAfter(serr); ok && d > wait {
			wait = min(d, 6*time.Hour)
		}
		if park {
			e.metrics.AlertsParked.Add(int64(len(batch)))
			e.log.Error("alerts parked: the route refused them", "route", route.Name, "alerts", len(batch), "err", serr)
		} else {
			e.log.Warn("alert delivery failed; will retry", "route", route.Name, "alerts", len(batch), "retryIn", wait.Round(time.Second), "err", serr)
		}
		if err := e.st.AlertsFailed(ctx, e.opts.Owner, ids, e.opts.Now().Add(wait), serr, park); err != nil {
			return sent, failed, err
		}
	}
	return sent, failed, nil
}
