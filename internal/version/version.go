// Package version holds the release version stamped into every rotor
// binary at link time:
//
//	go build -ldflags "-X github.com/rotorhq/rotor/internal/version.Version=v1.2.3"
//
// `make release VERSION=...` sets it for the CLI and every function. A
// binary built without the flag (go run, go test, make build) reports the
// module version Go recorded when there is one, and "dev" otherwise.
package version

import "runtime/debug"

// Version is set by the linker; empty when it was not.
var Version string

// String returns the stamped version, the main module's version from the
// build information when nothing was stamped (a `go install ...@v1.2.3`),
// or "dev".
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
