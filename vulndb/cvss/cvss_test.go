package cvss

import "testing"

func TestBaseScore(t *testing.T) {
	tests := []struct {
		vector string
		want   float64
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0}, // log4shell
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1}, // typical XSS
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0},
		{"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 6.5},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N/E:P/RL:O", 6.5}, // temporal metrics ignored
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5},
		{"AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0},
		{"AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3},
		{"(AV:L/AC:L/Au:N/C:C/I:C/A:C)", 7.2},
	}
	for _, tt := range tests {
		got, err := BaseScore(tt.vector)
		if err != nil {
			t.Errorf("BaseScore(%q): %v", tt.vector, err)
			continue
		}
		if got != tt.want {
			t.Errorf("BaseScore(%q) = %v, want %v", tt.vector, got, tt.want)
		}
	}
}

func TestBaseScoreErrors(t *testing.T) {
	for _, v := range []string{
		"",
		"CVSS:3.1/AV:N/AC:L",
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
	} {
		if s, err := BaseScore(v); err == nil {
			t.Errorf("BaseScore(%q) = %v, want error", v, s)
		}
	}
}
