// Package failpoint lets tests cut a database connection at every login and
// statement rotor's engines make: before the request leaves (the statement
// never reaches the server, the connection is gone) or after the server
// answered (it acted; the connection drops before the client reads the
// answer).
//
// It exists only in builds with the failpoints tag (go test -tags
// failpoints). The engines' hooks are no-ops in every other build and do
// not import this package, so the shipped binaries carry none of it;
// internal/local's TestShippedBinariesLinkNoTestHelpers checks that.
//
// A test turns faults on for one invocation by putting a Handler in its
// context (With); connections opened under any other context behave as
// usual, so tests running in parallel do not see each other's faults.
package failpoint
