// Package version compares package versions, one exact comparer per version
// scheme (the vulndb.Scheme* constants). Each scheme lives in its own
// subpackage with a Parse function and a Compare method on the parsed
// value, for callers that compare one installed version against many range
// events; [For] is the one place that lists them.
package version

import (
	"fmt"

	"github.com/vigil-scanner/vigil/version/apk"
	"github.com/vigil-scanner/vigil/version/composer"
	"github.com/vigil-scanner/vigil/version/deb"
	"github.com/vigil-scanner/vigil/version/gem"
	"github.com/vigil-scanner/vigil/version/maven"
	"github.com/vigil-scanner/vigil/version/nuget"
	"github.com/vigil-scanner/vigil/version/pep440"
	"github.com/vigil-scanner/vigil/version/rpm"
	"github.com/vigil-scanner/vigil/version/semver"
	"github.com/vigil-scanner/vigil/vulndb"
)

// Comparer compares two versions of one scheme.
type Comparer interface {
	// Compare returns -1, 0 or +1. It returns an error naming the version
	// when either is not a valid version of the scheme.
	Compare(a, b string) (int, error)
}

// parsed is a Comparer built from a scheme's Parse and Compare.
type parsed[V any] struct {
	parse   func(string) (V, error)
	compare func(V, V) int
}

func (p parsed[V]) Compare(a, b string) (int, error) {
	va, err := p.parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := p.parse(b)
	if err != nil {
		return 0, err
	}
	return p.compare(va, vb), nil
}

func comparer[V interface{ Compare(V) int }](parse func(string) (V, error)) Comparer {
	return parsed[V]{parse: parse, compare: V.Compare}
}

// For returns the comparer of a version scheme.
//
// semver, cargo and hex use strict SemVer 2.0.0 (a leading "v" is
// tolerated); go uses Go module rules with the "v" optional; npm uses
// node-semver's loose parsing; pub uses pub_semver, which also orders
// build metadata.
func For(scheme string) (Comparer, error) {
	switch scheme {
	case vulndb.SchemeDeb:
		return comparer(deb.Parse), nil
	case vulndb.SchemeRPM:
		return comparer(rpm.Parse), nil
	case vulndb.SchemeAPK:
		return comparer(apk.Parse), nil
	case vulndb.SchemeSemver, vulndb.SchemeCargo, vulndb.SchemeHex:
		return comparer(semver.Parse), nil
	case vulndb.SchemeGo:
		return comparer(semver.ParseGo), nil
	case vulndb.SchemeNpm:
		return comparer(semver.ParseLoose), nil
	case vulndb.SchemePub:
		return parsed[semver.Version]{parse: semver.ParsePub, compare: semver.Version.ComparePub}, nil
	case vulndb.SchemePEP440:
		return comparer(pep440.Parse), nil
	case vulndb.SchemeMaven:
		return comparer(maven.Parse), nil
	case vulndb.SchemeGem:
		return comparer(gem.Parse), nil
	case vulndb.SchemeNuGet:
		return comparer(nuget.Parse), nil
	case vulndb.SchemeComposer:
		return comparer(composer.Parse), nil
	}
	return nil, fmt.Errorf("version scheme %q: unknown", scheme)
}
