// Package rietest runs Go Lambda functions under the AWS Lambda Runtime
// Interface Emulator for tests: Build compiles a main package as a
// linux/amd64 "bootstrap" (CGO off, -tags lambda.norpc, -trimpath), Start
// runs the emulator (the aws-lambda-rie go tool pinned in go.mod) on a free
// loopback port with that bootstrap and a given environment, waits until it
// accepts connections, and stops it in t.Cleanup.
//
// The emulator's Runtime API also gets its own free port, so several
// emulators (and other engineers' tests) can run at once. The function's log
// lines and the emulator's own are captured and available from Output.
//
// Failures are test failures (t.Fatalf): a build that does not compile, an
// emulator that does not start. Running the bootstrap needs a linux/amd64
// host, which is what the project's CI and dev machines are.
package rietest
