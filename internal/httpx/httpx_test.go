package httpx

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"-5", 0, false},
		{"soon", 0, false},
		{"Tue, 01 Dec 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Tue, 01 Dec 2026 11:00:00 GMT", 0, true}, // in the past: now
		{"99999999999", MaxRetryAfter, true},
		{"99999999999999999999999", MaxRetryAfter, true}, // overflows uint64
		{"Tue, 01 Dec 2126 12:00:00 GMT", MaxRetryAfter, true},
		{"Tuesday, 01-Dec-26 12:01:00 GMT", time.Minute, true}, // RFC 850, obsolete
		{"1.5", 0, false},
		{"12abc", 0, false},
	} {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Retry-After", tt.header)
		}
		got, ok := RetryAfter(h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Retry-After %q = %s, %v; want %s, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
	if d := Backoff(1, nil, now); d != time.Second {
		t.Errorf("first backoff %s", d)
	}
	if d := Backoff(20, nil, now); d != 30*time.Second {
		t.Errorf("backoff cap %s", d)
	}
	resp := &http.Response{Header: http.Header{"Retry-After": {"7"}}}
	if d := Backoff(1, resp, now); d != 7*time.Second {
		t.Errorf("backoff with Retry-After %s", d)
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Tue, 01 Dec 2026 12:00:30 GMT", "-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := RetryAfter(http.Header{"Retry-After": {s}}, time.Now())
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("%q: %s, %v", s, d, ok)
		}
	})
}
