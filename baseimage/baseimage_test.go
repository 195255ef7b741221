package baseimage

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigil-scanner/vigil/inventory"
)

func diffID(n int) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064x", n)}
}

// config returns an image config with one layer per non-empty history
// entry.
func config(labels map[string]string, hs ...v1.History) *v1.ConfigFile {
	cfg := &v1.ConfigFile{History: hs, Config: v1.Config{Labels: labels}}
	n := 0
	for _, h := range hs {
		if !h.EmptyLayer {
			n++
			cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID(n))
		}
	}
	return cfg
}

func layer(createdBy, comment string) v1.History {
	return v1.History{CreatedBy: createdBy, Comment: comment}
}

func empty(createdBy, comment string) v1.History {
	return v1.History{CreatedBy: createdBy, Comment: comment, EmptyLayer: true}
}

const bk = buildKitComment

// debian12 is the history of Docker's official debian:12 image.
var debian12 = []v1.History{
	layer("# debian.sh --arch 'amd64' out/ 'bookworm' '@1717977600'", "debuerreotype 0.15"),
	empty(`CMD ["bash"]`, bk),
}

func concat(parts ...[]v1.History) []v1.History {
	var out []v1.History
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestIdentify(t *testing.T) {
	ownBuild := []v1.History{
		layer("RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit", bk),
		layer("COPY app /app # buildkit", bk),
		empty(`CMD ["/app/run"]`, bk),
	}
	annotated := &v1.Manifest{Annotations: map[string]string{
		AnnotationBaseName:   "docker.io/library/debian:12",
		AnnotationBaseDigest: "sha256:" + fmt.Sprintf("%064x", 99),
	}}
	known := &Known{}
	known.Add(
		KnownImage{Name: "debian:bookworm", DiffIDs: []string{diffID(1).String()}},
		KnownImage{Name: "debian:12.8", DiffIDs: []string{diffID(1).String()}},
		KnownImage{Name: "debian:12", DiffIDs: []string{diffID(1).String()}},
		KnownImage{Name: "app-base:1", Digests: []string{"sha256:abc"}, DiffIDs: []string{diffID(1).String(), diffID(2).String()}},
		KnownImage{Name: "other:1", DiffIDs: []string{diffID(7).String()}},
	)
	tests := []struct {
		name  string
		m     *v1.Manifest
		cfg   *v1.ConfigFile
		known *Known
		want  *inventory.Base
	}{
		{
			name: "BuildKit on the official image: the base's CMD",
			cfg:  config(nil, concat(debian12, ownBuild)...),
			want: &inventory.Base{Layers: 1, IdentifiedBy: []string{"history"}},
		},
		{
			name: "annotations name it, history counts its layers",
			m:    annotated,
			cfg:  config(nil, concat(debian12, ownBuild)...),
			want: &inventory.Base{Name: "docker.io/library/debian:12", Digest: annotated.Annotations[AnnotationBaseDigest], Layers: 1, IdentifiedBy: []string{"annotation", "history"}},
		},
		{
			name: "annotations without a boundary in the history",
			m:    annotated,
			cfg:  config(nil, layer("bazel build //base", ""), layer("bazel build //app", "")),
			want: &inventory.Base{Name: "docker.io/library/debian:12", Digest: annotated.Annotations[AnnotationBaseDigest], IdentifiedBy: []string{"annotation"}},
		},
		{
			name: "classic builder",
			cfg: config(nil,
				layer("/bin/sh -c #(nop) ADD file:0d2c2a9e in / ", ""),
				empty(`/bin/sh -c #(nop)  CMD ["bash"]`, ""),
				layer("/bin/sh -c apt-get update", ""),
				empty(`/bin/sh -c #(nop)  ENV A=b`, ""),
				layer("/bin/sh -c #(nop) COPY file:1 in /app ", ""),
			),
			want: &inventory.Base{Layers: 1, IdentifiedBy: []string{"history"}},
		},
		{
			name: "multi-stage: the final stage's base, a COPY --from layer is the image's own",
			cfg: config(nil, concat(
				[]v1.History{layer("ADD alpine-minirootfs.tar.gz / # buildkit", bk), empty(`CMD ["/bin/sh"]`, bk)},
				[]v1.History{
					layer("COPY /out/app /usr/local/bin/app # buildkit", bk),
					empty(`ENTRYPOINT ["/usr/local/bin/app"]`, bk),
				})...),
			want: &inventory.Base{Layers: 1, IdentifiedBy: []string{"history"}},
		},
		{
			name: "buildah names the base on its first entry",
			cfg: config(nil,
				layer("/bin/sh -c #(nop) ADD file:0d2c2a9e in / ", ""),
				layer("/bin/sh -c #(nop) ADD file:more in / ", ""),
				empty(`/bin/sh -c #(nop)  CMD ["bash"]`, ""),
				layer("/bin/sh -c dnf install -y httpd", "FROM registry.access.redhat.com/ubi9/ubi:9.4"),
				empty(`/bin/sh -c #(nop) CMD ["httpd"]`, ""),
			),
			want: &inventory.Base{Name: "registry.access.redhat.com/ubi9/ubi:9.4", Layers: 2, IdentifiedBy: []string{"history"}},
		},
		{
			name: "a base without CMD: where BuildKit's entries start",
			cfg: config(nil,
				layer("bazel build //base:static", ""),
				layer("bazel build //base:certs", ""),
				layer("COPY app /app # buildkit", bk),
				empty(`ENTRYPOINT ["/app"]`, bk),
			),
			want: &inventory.Base{Layers: 2, IdentifiedBy: []string{"history"}},
		},
		{
			name: "label set by the image's own build",
			cfg: config(map[string]string{AnnotationBaseName: "debian:12.8"}, concat(debian12, []v1.History{
				empty("LABEL org.opencontainers.image.base.name=debian:12.8 maintainer=\"a b\"", bk),
				layer("COPY app /app # buildkit", bk),
			})...),
			want: &inventory.Base{Name: "debian:12.8", Layers: 1, IdentifiedBy: []string{"label", "history"}},
		},
		{
			name: "label inherited from the base names the base's base",
			cfg: config(map[string]string{AnnotationBaseName: "debian:12.8"}, concat(
				[]v1.History{layer("ADD rootfs /", ""), empty("LABEL org.opencontainers.image.base.name=debian:12.8", bk), layer("RUN install python # buildkit", bk), empty(`CMD ["python3"]`, bk)},
				[]v1.History{layer("COPY app /app # buildkit", bk)},
			)...),
			want: &inventory.Base{Layers: 2, IdentifiedBy: []string{"history"}},
		},
		{
			name:  "known base by layers: the most specific tag",
			cfg:   config(nil, layer("ADD x /", ""), layer("RUN y", ""), layer("RUN z", "")),
			known: known,
			want:  &inventory.Base{Name: "app-base:1", Digest: "sha256:abc", Layers: 2, IdentifiedBy: []string{"layers"}},
		},
		{
			name:  "known base outranks the history",
			cfg:   config(nil, concat(debian12, ownBuild)...),
			known: func() *Known { k := &Known{}; k.Add(known.Images()[:3]...); return k }(),
			want:  &inventory.Base{Name: "debian:12.8", Layers: 1, IdentifiedBy: []string{"layers"}},
		},
		{
			name: "known base by the annotated digest",
			m:    &v1.Manifest{Annotations: map[string]string{AnnotationBaseDigest: "sha256:def"}},
			cfg:  config(nil, layer("ADD x /", ""), layer("RUN y", "")),
			known: func() *Known {
				k := &Known{}
				k.Add(KnownImage{Name: "b:2", DiffIDs: []string{diffID(1).String()}}, KnownImage{Name: "a:1.0.0", Digests: []string{"sha256:def"}, DiffIDs: []string{diffID(1).String()}})
				return k
			}(),
			want: &inventory.Base{Name: "a:1.0.0", Digest: "sha256:def", Layers: 1, IdentifiedBy: []string{"annotation", "layers"}},
		},
		{
			name:  "the image is a known base itself",
			cfg:   config(nil, debian12...),
			known: known,
			want:  &inventory.Base{Name: "debian:12.8", Layers: 1, IdentifiedBy: []string{"layers"}},
		},
		{
			name: "FROM scratch: nothing to tell",
			cfg:  config(nil, layer("COPY app / # buildkit", bk), empty(`ENTRYPOINT ["/app"]`, bk)),
		},
		{
			name: "history not one entry per layer",
			cfg: func() *v1.ConfigFile {
				c := config(nil, concat(debian12, ownBuild)...)
				c.RootFS.DiffIDs = append(c.RootFS.DiffIDs, diffID(9))
				return c
			}(),
		},
		{
			name: "a base image alone: no layer after its CMD",
			cfg:  config(nil, debian12...),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Identify(tt.m, tt.cfg, tt.known)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Identify = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMoreSpecific(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"debian:12.8", "debian:12", true},
		{"debian:12", "debian:bookworm", true},
		{"debian:bookworm-20240612", "debian:bookworm", true},
		{"python:3.12.4-slim", "python:3.12-slim", true},
		{"debian:latest", "debian:12", false},
		{"a:1", "a:1", false},
	} {
		if got := MoreSpecific(tt.a, tt.b); got != tt.want {
			t.Errorf("MoreSpecific(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestMark(t *testing.T) {
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{Layers: []inventory.Layer{{DiffID: "sha256:1"}, {DiffID: "sha256:2"}}},
		Results: []inventory.Result{{Packages: []inventory.Package{
			{Name: "base-files", Layer: inventory.LayerRef{DiffID: "sha256:1"}},
			{Name: "curl", Layer: inventory.LayerRef{DiffID: "sha256:2"}},
			{Name: "nolayer"},
		}}},
	}
	Mark(inv, &inventory.Base{Layers: 1})
	got := []bool{inv.Results[0].Packages[0].Layer.Base, inv.Results[0].Packages[1].Layer.Base, inv.Results[0].Packages[2].Layer.Base}
	if !reflect.DeepEqual(got, []bool{true, false, false}) {
		t.Errorf("base marks %v", got)
	}
	if l := Layers(inv); !reflect.DeepEqual(l, []string{"sha256:1"}) {
		t.Errorf("Layers = %v", l)
	}
	Mark(inv, nil)
	if inv.Results[0].Packages[0].Layer.Base || inv.Artifact.Base != nil {
		t.Error("Mark(nil) left a mark")
	}
}

func TestChainIDs(t *testing.T) {
	// ChainID(A|B) = sha256(ChainID(A) + " " + DiffID(B)); the expected
	// value is sha256sum of "sha256:a sha256:b".
	c := ChainIDs([]string{"sha256:a", "sha256:b"})
	if c[0] != "sha256:a" || c[1] != "sha256:970a948bffa8de94d6e22d747ba8c95030e6e546909f98f54e99a13005e173a8" {
		t.Errorf("chain IDs %v", c)
	}
}

// FuzzIdentify feeds Identify history entries, labels and annotations as an
// image's config may hold them: it must not panic, and a base it reports
// never has more layers than the image.
func FuzzIdentify(f *testing.F) {
	f.Add(`CMD ["bash"]`, bk, "LABEL a=\"b c\" org.opencontainers.image.base.name=x:1", "FROM docker.io/library/debian:12", "debian:12", true)
	f.Add("/bin/sh -c #(nop)  LABEL \\\"=", "", `LABEL "unterminated`, "FROM ", "", false)
	f.Fuzz(func(t *testing.T, createdBy, comment, label, fromComment, annotation string, empty bool) {
		cfg := config(map[string]string{AnnotationBaseName: annotation},
			layer("ADD rootfs /", ""),
			v1.History{CreatedBy: createdBy, Comment: comment, EmptyLayer: empty},
			v1.History{CreatedBy: label, EmptyLayer: true},
			layer("RUN x", fromComment),
			v1.History{CreatedBy: createdBy, Comment: comment},
		)
		m := &v1.Manifest{Annotations: map[string]string{AnnotationBaseName: annotation, AnnotationBaseDigest: comment}}
		k := &Known{}
		k.Add(KnownImage{Name: annotation, DiffIDs: []string{diffID(1).String()}})
		for _, known := range []*Known{nil, k} {
			b := Identify(m, cfg, known)
			if b != nil && (b.Layers < 0 || b.Layers > len(cfg.RootFS.DiffIDs)) {
				t.Fatalf("base with %d layers of %d", b.Layers, len(cfg.RootFS.DiffIDs))
			}
		}
	})
}

func TestLoadDirErrors(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"not JSON":      {"a.json": "{"},
		"not a report":  {"a.json": `{"hello": 1}`},
		"not an image":  {"a.json": `{"schemaVersion": 1, "artifact": {"name": ".", "type": "filesystem"}, "results": []}`},
		"layer no diff": {"a.json": `{"schemaVersion": 1, "artifact": {"name": "x", "type": "container_image", "layers": [{"digest": "sha256:1"}]}, "results": []}`},
		"empty":         {"readme.txt": "no reports here"},
	} {
		dir := t.TempDir()
		for n, body := range files {
			if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := LoadDir(dir)
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: err %v, want one naming %s", name, err, dir)
		}
	}
	if _, err := LoadDir(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("a missing directory: no error")
	}
}
