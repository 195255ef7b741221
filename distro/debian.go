package distro

// debianReleases maps Debian codenames to their release numbers, as the
// vulnerability database names Debian ecosystems ("debian:12").
var debianReleases = map[string]string{
	"buzz": "1.1", "rex": "1.2", "bo": "1.3", "hamm": "2.0", "slink": "2.1",
	"potato": "2.2", "woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5",
	"squeeze": "6", "wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10",
	"bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14", "duke": "15",
	"sid": "sid",
}

// DebianRelease returns the release number of a Debian codename
// ("bookworm" → "12", "sid" → "sid") and whether it is known.
func DebianRelease(codename string) (string, bool) {
	r, ok := debianReleases[codename]
	return r, ok
}
