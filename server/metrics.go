package server

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-scanner/vigil/engine"
	"github.com/vigil-scanner/vigil/store"
)

// metrics writes the Prometheus text exposition format (version 0.0.4):
// job and outbox gauges from the store (shared by every server on it),
// this process's counters and latency histograms, and the database's age.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	jobs, err := s.st.JobCounts(ctx)
	if err != nil {
		s.internal(w, err)
		return
	}
	alerts, err := s.st.AlertCounts(ctx)
	if err != nil {
		s.internal(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m := s.eng.Metrics()
	b := &strings.Builder{}

	help(b, "vigil_jobs", "gauge", "Jobs in the store by kind and state (queued, running, done, failed).")
	for _, kind := range []string{store.JobList, store.JobPush, store.JobScan, store.JobRematch} {
		for _, state := range []string{store.JobQueued, store.JobRunning, store.JobDone, store.JobFailed} {
			fmt.Fprintf(b, "vigil_jobs{kind=%q,state=%q} %d\n", kind, state, jobs[[2]string{kind, state}])
		}
	}
	help(b, "vigil_jobs_running_here", "gauge", "Jobs this server is running now.")
	fmt.Fprintf(b, "vigil_jobs_running_here %d\n", m.Running())
	help(b, "vigil_job_failures_total", "counter", "Job runs on this server that failed.")
	fmt.Fprintf(b, "vigil_job_failures_total %d\n", m.Failed())

	help(b, "vigil_job_duration_seconds", "histogram", "Time to run a job on this server, by kind (scan latency: kind=scan; match latency: kind=rematch).")
	durs := m.Durations()
	kinds := make([]string, 0, len(durs))
	for k := range durs {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		h := durs[k]
		var cum uint64
		for i, le := range engine.Buckets {
			cum += h.Counts[i]
			fmt.Fprintf(b, "vigil_job_duration_seconds_bucket{kind=%q,le=%q} %d\n", k, strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		fmt.Fprintf(b, "vigil_job_duration_seconds_bucket{kind=%q,le=\"+Inf\"} %d\n", k, h.Count)
		fmt.Fprintf(b, "vigil_job_duration_seconds_sum{kind=%q} %g\n", k, h.Sum)
		fmt.Fprintf(b, "vigil_job_duration_seconds_count{kind=%q} %d\n", k, h.Count)
	}

	help(b, "vigil_alerts", "gauge", "Outbox entries by route and state (pending, sending, sent, parked).")
	keys := make([][2]string, 0, len(alerts))
	for k := range alerts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	for _, k := range keys {
		fmt.Fprintf(b, "vigil_alerts{route=%q,state=%q} %d\n", k[0], k[1], alerts[k])
	}
	help(b, "vigil_alerts_sent_total", "counter", "Alerts this server delivered.")
	fmt.Fprintf(b, "vigil_alerts_sent_total %d\n", m.AlertsSent.Load())
	help(b, "vigil_alerts_failed_total", "counter", "Alert deliveries by this server that failed (retried or parked).")
	fmt.Fprintf(b, "vigil_alerts_failed_total %d\n", m.AlertsFailed.Load())

	help(b, "vigil_registry_rate_limited_total", "counter", "429 answers from each registry to this server.")
	rl := s.eng.RateLimited()
	hosts := make([]string, 0, len(rl))
	for h := range rl {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		fmt.Fprintf(b, "vigil_registry_rate_limited_total{registry=%q} %d\n", h, rl[h])
	}

	db := s.eng.DB()
	help(b, "vigil_database_age_seconds", "gauge", "Age of the vulnerability database in use (now minus its build time).")
	if !db.BuiltAt.IsZero() {
		fmt.Fprintf(b, "vigil_database_age_seconds %d\n", int64(time.Since(db.BuiltAt).Seconds()))
	}
	io.WriteString(w, b.String())
}

func help(b *strings.Builder, name, typ, text string) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, typ)
}
