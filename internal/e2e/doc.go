// Package e2e holds vigil's end-to-end tests: they build container images
// and feed mirrors in the upstream layouts, run `vigil db build` and
// `vigil image` through cli.Main, and check the exact findings, exit codes
// and outputs a user would get. The package has no code of its own.
package e2e
