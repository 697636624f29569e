// Package local is the local world rotor's demo, tests and benchmarks run
// in, kept apart from the product: nothing under internal/local is on the
// road from a rotation event to a database.
//
//   - awslocal: the stand-in for Secrets Manager (with the Lambda, RDS, SNS
//     and EventBridge pieces rotor touches), shipped in the CLI as
//     rotor local serve and used by rotor demo;
//   - awslocal/awslocaltest: one stand-in per test;
//   - dbserver: throwaway PostgreSQL and MariaDB servers with password
//     authentication and a per-run TLS CA (the demo uses it too);
//   - dbtest: those servers shared by a test binary, with fresh users and
//     databases per test;
//   - rietest: built Lambda bootstraps under the AWS Lambda Runtime
//     Interface Emulator.
//
// Only the packages whose names end in "test" import package testing; the
// shipped binaries (go list -deps ./cmd/rotor ./functions/...) never link
// it, nor the database fault points of internal/failpoint (built only with
// the failpoints tag), and TestShippedBinariesLinkNoTestHelpers in this
// package checks that.
package local
