package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/vigil-scanner/vigil/store"
)

// Push is one pushed tag or digest, from a registry notification or a
// scan request.
type Push struct {
	Registry   string // host[:port] as configured
	Repository string // within the registry
	Tag        string
	Digest     string
}

// MaxNotification bounds a notification body.
const MaxNotification = 1 << 20

// ErrBadNotification is wrapped by ParseNotification's errors.
var ErrBadNotification = errors.New("bad notification")

// distributionEnvelope is the CNCF distribution registry's notification
// body (docs/notifications in distribution): events of action "push"
// carry the manifest's repository, digest, tag and URL.
type distributionEnvelope struct {
	Events []struct {
		Action string `json:"action"`
		Target struct {
			MediaType  string `json:"mediaType"`
			Digest     string `json:"digest"`
			Repository string `json:"repository"`
			URL        string `json:"url"`
			Tag        string `json:"tag"`
		} `json:"target"`
		Request struct {
			Host string `json:"host"`
		} `json:"request"`
	} `json:"events"`
}

// harborEnvelope is Harbor's webhook payload (type PUSH_ARTIFACT).
type harborEnvelope struct {
	Type      string `json:"type"`
	EventData struct {
		Resources []struct {
			Digest      string `json:"digest"`
			Tag         string `json:"tag"`
			ResourceURL string `json:"resource_url"`
		} `json:"resources"`
		Repository struct {
			RepoFullName string `json:"repo_full_name"`
		} `json:"repository"`
	} `json:"event_data"`
}

// ParseNotification reads a registry notification body — the CNCF
// distribution registry's event envelope or Harbor's webhook payload —
// and returns its pushes of manifests, each with the host it names. Events
// other than manifest pushes (blob pushes, pulls, deletes) are skipped.
func ParseNotification(body []byte) ([]Push, error) {
	if len(body) > MaxNotification {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadNotification, MaxNotification)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadNotification, err)
	}
	switch {
	case probe["events"] != nil:
		var env distributionEnvelope
		if err := json.Unmarshal(body, &env); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadNotification, err)
		}
		var out []Push
		for i, ev := range env.Events {
			t := ev.Target
			if ev.Action != "push" || t.Repository == "" || !isManifest(t.MediaType, t.URL) {
				continue
			}
			if t.Tag == "" && t.Digest == "" {
				return nil, fmt.Errorf("%w: event %d: push without tag or digest", ErrBadNotification, i)
			}
			host := ev.Request.Host
			if u, err := url.Parse(t.URL); err == nil && u.Host != "" {
				host = u.Host
			}
			p := Push{Registry: host, Repository: t.Repository, Tag: t.Tag, Digest: t.Digest}
			if err := p.check(); err != nil {
				return nil, fmt.Errorf("%w: event %d: %v", ErrBadNotification, i, err)
			}
			out = append(out, p)
		}
		return out, nil
	case probe["event_data"] != nil:
		var env harborEnvelope
		if err := json.Unmarshal(body, &env); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadNotification, err)
		}
		if env.Type != "PUSH_ARTIFACT" && env.Type != "pushImage" {
			return nil, nil
		}
		var out []Push
		for i, r := range env.EventData.Resources {
			ref, err := name.ParseReference(r.ResourceURL, name.WeakValidation)
			if err != nil {
				return nil, fmt.Errorf("%w: resource %d: %v", ErrBadNotification, i, err)
			}
			p := Push{Registry: ref.Context().RegistryStr(), Repository: ref.Context().RepositoryStr(), Tag: r.Tag, Digest: r.Digest}
			if err := p.check(); err != nil {
				return nil, fmt.Errorf("%w: resource %d: %v", ErrBadNotification, i, err)
			}
			out = append(out, p)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: neither a distribution event envelope nor a Harbor webhook payload", ErrBadNotification)
}

func isManifest(mediaType, u string) bool {
	return strings.Contains(mediaType, "manifest") || strings.Contains(mediaType, "index") || strings.Contains(u, "/manifests/")
}

// check validates the names of a push.
func (p Push) check() error {
	if _, err := name.NewRepository("example.com/"+p.Repository, name.StrictValidation); err != nil {
		return fmt.Errorf("repository %q: %v", p.Repository, err)
	}
	if p.Tag != "" {
		if _, err := name.NewTag("example.com/x:"+p.Tag, name.StrictValidation); err != nil {
			return fmt.Errorf("tag %q: %v", p.Tag, err)
		}
	}
	if p.Digest != "" {
		if _, err := name.NewDigest("example.com/x@"+p.Digest, name.StrictValidation); err != nil {
			return fmt.Errorf("digest %q: %v", p.Digest, err)
		}
	}
	return nil
}

// ErrUnknownRegistry is returned for a push to a registry not configured.
var ErrUnknownRegistry = errors.New("registry not configured")

// Submit queues pushes to be resolved and scanned at once. A push whose
// registry matches no configured one is attributed to the only registry
// when exactly one is configured (a registry's notifications name the
// host it was reached by, which may differ from the configured one).
func (e *Engine) Submit(ctx context.Context, pushes []Push) (int, error) {
	var jobs []store.NewJob
	for _, p := range pushes {
		if e.regs[p.Registry] == nil {
			if len(e.regs) != 1 {
				return 0, fmt.Errorf("%w: %s", ErrUnknownRegistry, p.Registry)
			}
			for h := range e.regs {
				p.Registry = h
			}
		}
		key := "push:" + p.Registry + "/" + p.Repository + ":" + p.Tag + "@" + p.Digest
		if p.Digest == "" {
			// A tag can be pushed again: each request is its own job.
			key += ":" + shortHash(fmt.Sprint(e.opts.Now().UnixNano()))
		}
		jobs = append(jobs, store.NewJob{Kind: store.JobPush, Key: key, Payload: jsonOf(pushPayload(p)), Priority: 3})
	}
	n, err := e.st.Enqueue(ctx, e.opts.Now(), jobs...)
	if n > 0 {
		e.poke()
	}
	return n, err
}

// ParseReference splits an image reference into a push of a configured
// registry, for scan requests.
func ParseReference(ref string) (Push, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return Push{}, err
	}
	p := Push{Registry: r.Context().RegistryStr(), Repository: r.Context().RepositoryStr()}
	switch v := r.(type) {
	case name.Tag:
		p.Tag = v.TagStr()
	case name.Digest:
		p.Digest = v.DigestStr()
	}
	return p, nil
}
