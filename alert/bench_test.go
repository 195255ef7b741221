package alert

import (
	"fmt"
	"testing"
)

// manyAlerts is n alerts over n/10 images.
func manyAlerts(n int) []Alert {
	out := make([]Alert, 0, n)
	for i := range n {
		a := sampleAlerts()[i%3]
		a.IdempotencyKey = fmt.Sprintf("k%d", i)
		a.ID = fmt.Sprintf("CVE-2026-%05d", i)
		a.Image = fmt.Sprintf("registry.example.com/team/service-%03d:1.0@%s", i/10, digestApp)
		out = append(out, a)
	}
	return prepare(out, "https://vigil.example.com")
}

func BenchmarkRender(b *testing.B) {
	alerts := manyAlerts(1000)
	opts := testEmailOptions().withDefaults()
	b.Run("webhook", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshal(Body{Alerts: alerts}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("slack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshal(renderSlack(alerts, opts)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("email", func(b *testing.B) {
		e := &email{route: testEmailRoute("mail.example.com:25"), opts: opts}
		e.from, _ = parseAddress(e.route.From)
		for _, to := range e.route.To {
			a, _ := parseAddress(to)
			e.to = append(e.to, a)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.message(alerts); err != nil {
				b.Fatal(err)
			}
		}
	})
}
