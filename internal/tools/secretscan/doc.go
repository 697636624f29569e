// Package secretscan holds the test of rotor's own secret scanning: the
// repository's .gitleaks.toml, used by scripts/scan-secrets.sh (`make
// secrets`, part of `make test`), must let through only the test fixtures'
// fake values it names, and gitleaks must still report a realistic secret
// planted anywhere, including inside those fixtures. The package has no
// code of its own; the scan itself is gitleaks, pinned in go.mod as a tool.
package secretscan
