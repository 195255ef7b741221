// Package acceptance holds black-box acceptance tests of vigil's
// issue-level contracts: the vigil command is built by the tests and run
// as a user runs it (`vigil server --config FILE`, `vigil db build`),
// against real servers the tests start (Debian's docker-registry with its
// notifications, aiosmtpd), through exactly the interfaces the issues name
// — the configuration file, the HTTP API, the webhook and email alerts.
// The package has no code of its own.
package acceptance
