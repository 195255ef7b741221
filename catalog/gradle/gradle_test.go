package gradle

import (
	"slices"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
	"github.com/vigil-scanner/vigil/inventory"
)

func summary(r inventory.Result) []string {
	var out []string
	for _, p := range r.Packages {
		out = append(out, langtest.Line(p))
	}
	return out
}

func TestWants(t *testing.T) {
	c := New()
	for p, want := range map[string]bool{
		"gradle.lockfile":                                   true,
		"svc/buildscript-gradle.lockfile":                   true,
		"gradle/libs.versions.toml":                         true,
		"svc/gradle/deps.versions.toml":                     true,
		"libs.versions.toml":                                false,
		"svc/build.gradle.kts":                              true,
		"settings.gradle":                                   true,
		"gradle/dependency-locks/compileClasspath.lockfile": true,
		"svc/build/tmp/gradle.lockfile":                     false,
		"x.lockfile":                                        false,
	} {
		if got := c.Wants(p, 0o644, 100); got != want {
			t.Errorf("Wants(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestProject pins the rules: modules resolved only for test
// configurations are dev (lombok, for annotationProcessor and
// compileClasspath, is not); the build classpath's are dev; the build
// script's declarations (string, map and catalog notations) are the
// direct ones; the catalog's libraries are reported with their versions
// resolved (version.ref, rich versions), or without one.
func TestProject(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir("app"), catalog.Env{})
	langtest.CheckGraph(t, res)
	got := map[string][]string{}
	for _, r := range res {
		if r.Type != Type {
			t.Errorf("%s: type %s", r.Target, r.Type)
		}
		got[r.Target] = summary(r)
	}
	want := map[string][]string{
		"gradle.lockfile": {
			"com.fasterxml.jackson.core:jackson-annotations@2.17.1 indirect",
			"com.fasterxml.jackson.core:jackson-databind@2.17.1",
			"com.google.guava:guava@33.2.1-jre",
			"inventory-service root",
			"org.apiguardian:apiguardian-api@1.1.2 dev indirect",
			"org.junit.jupiter:junit-jupiter-api@5.10.2 dev",
			"org.junit:junit-bom@5.10.2 dev",
			"org.projectlombok:lombok@1.18.32",
		},
		"buildscript-gradle.lockfile": {"org.springframework.boot:spring-boot-gradle-plugin@3.3.0 dev"},
		"gradle/libs.versions.toml": {
			"com.fasterxml.jackson.core:jackson-databind@2.17.1",
			"com.google.guava:guava@33.2.1-jre",
			"org.apache.commons:commons-lang3@",
			"org.junit.jupiter:junit-jupiter-api@5.10.2",
			"org.springframework.boot:spring-boot-starter@",
		},
	}
	for target, w := range want {
		if !slices.Equal(got[target], w) {
			t.Errorf("%s:\n got %q\nwant %q", target, got[target], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("results: %v", got)
	}
	if !logs.Contains("gradle/libs.versions.toml", "org.springframework.boot:spring-boot-starter", "org.apache.commons:commons-lang3") {
		t.Errorf("no warning naming the unresolved libraries: %v", logs.Lines())
	}
}

func TestOldLockfiles(t *testing.T) {
	res, _ := langtest.Run(t, New(), langtest.Dir("old"), catalog.Env{})
	if len(res) != 1 || !slices.Equal(summary(res[0]), []string{"org.slf4j:slf4j-api@1.7.36"}) {
		t.Errorf("results = %+v", res)
	}
}

func TestMalformed(t *testing.T) {
	fsys := fstest.MapFS{
		"a/gradle.lockfile":           {Data: []byte("not a coordinate=compileClasspath\n")},
		"b/gradle/libs.versions.toml": {Data: []byte("[libraries\n")},
	}
	res, logs := langtest.Run(t, New(), fsys, catalog.Env{})
	if len(res) != 0 {
		t.Errorf("results from malformed files: %+v", res)
	}
	for _, f := range []string{"a/gradle.lockfile", "b/gradle/libs.versions.toml"} {
		if !logs.Contains(f) {
			t.Errorf("no warning naming %s: %v", f, logs.Lines())
		}
	}
}

func FuzzLockfile(f *testing.F) {
	project := fstest.MapFS{
		"build.gradle.kts":          {Data: langtest.Read(f, "testdata/app/build.gradle.kts")},
		"gradle/libs.versions.toml": {Data: langtest.Read(f, "testdata/app/gradle/libs.versions.toml")},
	}
	langtest.FuzzFile(f, New(), "gradle.lockfile", project, "testdata/app/*.lockfile")
}

func FuzzVersionCatalog(f *testing.F) {
	project := fstest.MapFS{
		"build.gradle.kts": {Data: langtest.Read(f, "testdata/app/build.gradle.kts")},
		"gradle.lockfile":  {Data: langtest.Read(f, "testdata/app/gradle.lockfile")},
	}
	langtest.FuzzFile(f, New(), "gradle/libs.versions.toml", project, "testdata/app/gradle/libs.versions.toml")
}

func FuzzBuildScript(f *testing.F) {
	project := fstest.MapFS{
		"gradle.lockfile":           {Data: langtest.Read(f, "testdata/app/gradle.lockfile")},
		"gradle/libs.versions.toml": {Data: langtest.Read(f, "testdata/app/gradle/libs.versions.toml")},
	}
	langtest.FuzzFile(f, New(), "build.gradle.kts", project, "testdata/app/build.gradle.kts")
}
