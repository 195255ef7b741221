package vulndbtest

import (
	"context"
	"errors"
	"sync"

	"github.com/vigil-scanner/vigil/vulndb"
)

// KeyedSink keeps what a source puts keyed the way the store keys it, and
// fails on a second record under one key: a source must merge its own
// duplicates (the store would merge them silently).
type KeyedSink struct {
	mu sync.Mutex
	// Affected is keyed "ecosystem/package/id".
	Affected map[string]vulndb.Affected
	Vulns    map[string]vulndb.Vulnerability
}

// NewKeyedSink returns an empty KeyedSink.
func NewKeyedSink() *KeyedSink {
	return &KeyedSink{Affected: map[string]vulndb.Affected{}, Vulns: map[string]vulndb.Vulnerability{}}
}

// PutAffected records a, or fails when its key was put before.
func (s *KeyedSink) PutAffected(_ context.Context, a vulndb.Affected) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := a.Ecosystem + "/" + a.Package + "/" + a.VulnID
	if _, dup := s.Affected[k]; dup {
		return errors.New("duplicate affected record " + k)
	}
	s.Affected[k] = a
	return nil
}

// PutVulnerability records v, or fails when its id was put before.
func (s *KeyedSink) PutVulnerability(_ context.Context, v vulndb.Vulnerability) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.Vulns[v.ID]; dup {
		return errors.New("duplicate vulnerability " + v.ID)
	}
	s.Vulns[v.ID] = v
	return nil
}
