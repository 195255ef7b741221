package distro

// Family returns vigil's family name (see inventory.OS.Family) for id, an
// os-release ID ("rhel", "almalinux", "ol") or a family name vigil already
// uses ("redhat", "alma", "oracle"). It reports false for anything else.
func Family(id string) (string, bool) {
	if f, ok := osReleaseIDs[id]; ok {
		return f, true
	}
	for _, f := range osReleaseIDs {
		if f == id {
			return f, true
		}
	}
	return "", false
}
