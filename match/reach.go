package match

// reachability judges a finding by symbols: Unreachable when the record
// lists the vulnerable symbols, the package's binary has a readable symbol
// table (binary is non-nil) and none of the vulnerable symbols is in it;
// empty (unknown) otherwise. Both sides use the Go vulnerability
// database's form, "pkg/path.Func" or "pkg/path.Type.Method".
// docs/reachability.md states the limits.
func reachability(binary map[string]bool, vulnerable []string) string {
	if len(binary) == 0 || len(vulnerable) == 0 {
		return ""
	}
	for _, s := range vulnerable {
		if binary[s] {
			return ""
		}
	}
	return Unreachable
}
