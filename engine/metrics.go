package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// Metrics are the engine's counters since it started; the server exports
// them with the store's gauges.
type Metrics struct {
	running      atomic.Int64
	failed       atomic.Int64
	AlertsSent   atomic.Int64
	AlertsFailed atomic.Int64
	AlertsParked atomic.Int64

	mu        sync.Mutex
	durations map[string]*Histogram // by job kind
}

// Running is the number of jobs this process runs now.
func (m *Metrics) Running() int64 { return m.running.Load() }

// Failed is the number of job runs that failed.
func (m *Metrics) Failed() int64 { return m.failed.Load() }

// Buckets are the upper bounds, in seconds, of the latency histograms.
var Buckets = []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300}

// Histogram is a Prometheus-style cumulative histogram.
type Histogram struct {
	Counts []uint64 // per bucket of Buckets, cumulative on export
	Count  uint64
	Sum    float64
}

func (m *Metrics) observe(kind string, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.durations == nil {
		m.durations = map[string]*Histogram{}
	}
	h := m.durations[kind]
	if h == nil {
		h = &Histogram{Counts: make([]uint64, len(Buckets))}
		m.durations[kind] = h
	}
	s := d.Seconds()
	for i, b := range Buckets {
		if s <= b {
			h.Counts[i]++
			break
		}
	}
	h.Count++
	h.Sum += s
}

// Durations returns a copy of the job latency histograms by kind.
func (m *Metrics) Durations() map[string]Histogram {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Histogram{}
	for k, h := range m.durations {
		c := *h
		c.Counts = append([]uint64(nil), h.Counts...)
		out[k] = c
	}
	return out
}
