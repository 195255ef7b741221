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

// harborEnvelope is Harbor's webhook payload in its Default format:
// {"type": "PUSH_ARTIFACT", "occur_at", "operator", "event_data": {…}}.
type harborEnvelope struct {
	Type      string     `json:"type"`
	EventData harborData `json:"event_data"`
}

// harborCloudEvent is Harbor's webhook payload in its CloudEvents format:
// {"specversion": "1.0", "type": "harbor.artifact.pushed", "data": {…}},
// data being the Default format's event_data.
type harborCloudEvent struct {
	SpecVersion string     `json:"specversion"`
	Type        string     `json:"type"`
	Data        harborData `json:"data"`
}

// harborData is what a Harbor event is about: the artifacts pushed (the
// tag is the digest when the artifact was pushed by digest) and their
// repository.
type harborData struct {
	Resources []struct {
		Digest      string `json:"digest"`
		Tag         string `json:"tag"`
		ResourceURL string `json:"resource_url"` // "harbor.example.com/library/app:v1"
	} `json:"resources"`
	Repository struct {
		RepoFullName string `json:"repo_full_name"` // "library/app"
	} `json:"repository"`
}

// pushes returns the artifacts of a Harbor push event.
func (d *harborData) pushes() ([]Push, error) {
	var out []Push
	for i, r := range d.Resources {
		ref, err := name.ParseReference(r.ResourceURL, name.WeakValidation)
		if err != nil {
			return nil, fmt.Errorf("%w: resource %d: %v", ErrBadNotification, i, err)
		}
		p := Push{Registry: ref.Context().RegistryStr(), Repository: ref.Context().RepositoryStr(), Tag: r.Tag, Digest: r.Digest}
		if strings.Contains(p.Tag, ":") {
			p.Tag = "" // pushed by digest: Harbor names the digest as the tag
		}
		if p.Tag == "" && p.Digest == "" {
			// Then the resource URL must name it: "…/app:v1" or
			// "…/app@sha256:…" (a URL without either parses with an
			// implied "latest", which nobody pushed).
			switch v := ref.(type) {
			case name.Digest:
				p.Digest = v.DigestStr()
			case name.Tag:
				if strings.HasSuffix(r.ResourceURL, ":"+v.TagStr()) {
					p.Tag = v.TagStr()
				}
			}
			if p.Tag == "" && p.Digest == "" {
				return nil, fmt.Errorf("%w: resource %d: push of %q without tag or digest", ErrBadNotification, i, r.ResourceURL)
			}
		}
		if err := p.check(); err != nil {
			return nil, fmt.Errorf("%w: resource %d: %v", ErrBadNotification, i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseNotification reads a registry notification body — the CNCF
// distribution registry's event envelope, or Harbor's webhook payload in
// its Default or CloudEvents format — and returns its pushes of manifests,
// each with the host it names. Events other than manifest pushes (blob
// pushes, pulls, deletes, scans) are skipped.
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
		return env.EventData.pushes()
	case probe["specversion"] != nil:
		var ev harborCloudEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadNotification, err)
		}
		if !strings.HasPrefix(ev.Type, "harbor.") {
			return nil, fmt.Errorf("%w: CloudEvents event of type %q: only Harbor's are read", ErrBadNotification, ev.Type)
		}
		if ev.Type != "harbor.artifact.pushed" {
			return nil, nil
		}
		return ev.Data.pushes()
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
