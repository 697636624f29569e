// Package dbserver starts and stops throwaway PostgreSQL and MariaDB servers
// for tests and for the `rotor demo` command.
//
// It owns everything about such a server: a private temporary directory, the
// data directory initialised in it, a TLS certificate authority and server
// certificate generated for this one run, a free TCP port on 127.0.0.1, the
// server process and its log. The servers use password authentication
// (SCRAM-SHA-256 for PostgreSQL, mysql_native_password for MariaDB), never
// trust, so a wrong password is refused as it would be in production. Every
// statement the server runs is written to a log file the caller can read.
//
// When running as root the servers run as the unprivileged system users
// "postgres" and "mysql"; otherwise as the current user. A server receives a
// shutdown signal if the process that started it dies, and the directories
// such servers leave behind are removed by the next start.
//
// On failure: a Start function either returns a running, reachable server or
// an error and nothing left running. A missing server program is reported as
// a *MissingBinaryError naming the Debian package and the command that
// installs it; a server that does not come up in time is reported with the
// tail of its log. Passwords never appear in errors, logs written by this
// package, or SQL text: the server is given a SCRAM verifier or a password
// hash computed here (see SCRAMSHA256Verifier and NativePasswordHash).
package dbserver
