#!/bin/sh
# scan-secrets.sh: fail when rotor's repository holds a committed secret.
#
# Usage: scripts/scan-secrets.sh
#
# Runs gitleaks (pinned in go.mod, run as `go tool gitleaks`) with
# .gitleaks.toml (gitleaks' default rules and an allow-list of the test
# fixtures' fake values) over every commit reachable from HEAD: the tree and
# its history. Findings are printed redacted; exit 1 when there is one.
#
# In a shallow clone the oldest commit present is scanned as a whole tree
# and the history before it is not: the script says so. Outside a git
# checkout (a source archive) it scans the files of the tree and says so.
# Never traces commands: a trace would print what it scans.
set -eu
set +x # never trace: see .ci/run
cd "$(dirname "$0")/.."

# CI runs as root in a clone another user may own: trust this directory for
# this run only (command-line scope, which git honours for safe.directory).
GIT_CONFIG_COUNT=1
GIT_CONFIG_KEY_0=safe.directory
GIT_CONFIG_VALUE_0="$(pwd)"
export GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0

flags="--no-banner --no-color --redact --config .gitleaks.toml --exit-code 1"

if [ "$(git rev-parse --is-inside-work-tree 2>/dev/null || true)" != true ]; then
	echo "scan-secrets: not a git checkout: scanning the files of the tree only, no history"
	# shellcheck disable=SC2086
	exec "${GO:-go}" tool gitleaks dir $flags .
fi

if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
	echo "scan-secrets: shallow clone: scanning the tree at $(git rev-parse --short "$(head -n 1 "$(git rev-parse --git-path shallow)")") and the commits after it; older history is not here"
fi
echo "scan-secrets: $(git rev-list --count HEAD) commits reachable from HEAD"
# HEAD, not gitleaks' default --all: the history this checkout ships, not
# every branch a developer's clone happens to hold.
# shellcheck disable=SC2086
exec "${GO:-go}" tool gitleaks git $flags --log-opts="--full-history --diff-filter=tuxdb HEAD" .
