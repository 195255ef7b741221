// Package cvss parses CVSS v2 and v3.x vector strings and computes their
// base scores as defined by FIRST's specifications
// (https://www.first.org/cvss/v2/guide, https://www.first.org/cvss/v3.1/specification-document).
// CVSS v4.0 scores are not computed: v4 uses a lookup table of macro
// vectors that this package does not carry.
package cvss

import (
	"fmt"
	"math"
	"strings"
)

// Version returns the CVSS version a vector declares: "3.0", "3.1" or
// "4.0" from its "CVSS:x.y/" prefix, and "2.0" for a prefix-less vector
// that has the v2 authentication metric (Au). It returns "" otherwise.
func Version(vector string) string {
	switch {
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		return "3.0"
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		return "3.1"
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		return "4.0"
	case strings.Contains(vector, "Au:"):
		return "2.0"
	}
	return ""
}

// BaseScore returns the base score of a v2 or v3.x vector. Other versions
// and malformed vectors yield an error.
func BaseScore(vector string) (float64, error) {
	switch Version(vector) {
	case "2.0":
		return scoreV2(vector)
	case "3.0", "3.1":
		return scoreV3(vector)
	}
	return 0, fmt.Errorf("cvss: no base score for vector %q: unsupported version", vector)
}

// metrics splits "A:x/B:y" into a map, rejecting duplicates and parts
// without a colon.
func metrics(vector string) (map[string]string, error) {
	m := make(map[string]string)
	for part := range strings.SplitSeq(vector, "/") {
		k, v, ok := strings.Cut(part, ":")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("cvss: malformed metric %q in %q", part, vector)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("cvss: metric %s repeated in %q", k, vector)
		}
		m[k] = v
	}
	return m, nil
}

// lookup returns the weight of metric name in m, from table.
func lookup(m map[string]string, name string, table map[string]float64, vector string) (float64, error) {
	v, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("cvss: metric %s missing in %q", name, vector)
	}
	w, ok := table[v]
	if !ok {
		return 0, fmt.Errorf("cvss: metric %s has unknown value %q in %q", name, v, vector)
	}
	return w, nil
}

var ( // weight tables, read-only
	v3AV  = map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
	v3AC  = map[string]float64{"L": 0.77, "H": 0.44}
	v3PRU = map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	v3PRC = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	v3UI  = map[string]float64{"N": 0.85, "R": 0.62}
	v3CIA = map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	v3S   = map[string]float64{"U": 0, "C": 1}

	v2AV  = map[string]float64{"L": 0.395, "A": 0.646, "N": 1.0}
	v2AC  = map[string]float64{"H": 0.35, "M": 0.61, "L": 0.71}
	v2Au  = map[string]float64{"M": 0.45, "S": 0.56, "N": 0.704}
	v2CIA = map[string]float64{"N": 0, "P": 0.275, "C": 0.660}
)

func scoreV3(vector string) (float64, error) {
	prefix, rest, _ := strings.Cut(vector, "/")
	m, err := metrics(rest)
	if err != nil {
		return 0, err
	}
	var w [8]float64
	scope, err := lookup(m, "S", v3S, vector)
	if err != nil {
		return 0, err
	}
	changed := scope == 1
	pr := v3PRU
	if changed {
		pr = v3PRC
	}
	for i, x := range []struct {
		name  string
		table map[string]float64
	}{{"AV", v3AV}, {"AC", v3AC}, {"PR", pr}, {"UI", v3UI}, {"C", v3CIA}, {"I", v3CIA}, {"A", v3CIA}} {
		if w[i], err = lookup(m, x.name, x.table, vector); err != nil {
			return 0, err
		}
	}
	iss := 1 - (1-w[4])*(1-w[5])*(1-w[6])
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	if impact <= 0 {
		return 0, nil
	}
	exploitability := 8.22 * w[0] * w[1] * w[2] * w[3]
	base := impact + exploitability
	if changed {
		base *= 1.08
	}
	base = math.Min(base, 10)
	if prefix == "CVSS:3.0" {
		return math.Ceil(base*10) / 10, nil
	}
	return roundUp31(base), nil
}

// roundUp31 is the CVSS v3.1 Roundup: the smallest number with one decimal
// place that is not below x, computed on integers to avoid float artefacts.
func roundUp31(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

func scoreV2(vector string) (float64, error) {
	v := strings.TrimSuffix(strings.TrimPrefix(vector, "("), ")")
	v = strings.TrimPrefix(v, "CVSS:2.0/")
	m, err := metrics(v)
	if err != nil {
		return 0, err
	}
	var w [6]float64
	for i, x := range []struct {
		name  string
		table map[string]float64
	}{{"AV", v2AV}, {"AC", v2AC}, {"Au", v2Au}, {"C", v2CIA}, {"I", v2CIA}, {"A", v2CIA}} {
		if w[i], err = lookup(m, x.name, x.table, vector); err != nil {
			return 0, err
		}
	}
	impact := 10.41 * (1 - (1-w[3])*(1-w[4])*(1-w[5]))
	exploitability := 20 * w[0] * w[1] * w[2]
	if impact == 0 {
		return 0, nil
	}
	base := (0.6*impact + 0.4*exploitability - 1.5) * 1.176
	return math.Round(base*10) / 10, nil
}
