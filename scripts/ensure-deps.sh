#!/bin/sh
# ensure-deps.sh: check for the system programs rotor's tests and tools run,
# and install the missing ones.
#
# Usage: scripts/ensure-deps.sh [postgres] [mariadb] [awscli] [terraform]
#
# With no arguments every dependency is checked. Silent, exit 0, when all
# checked dependencies are present. When a Debian package is missing: as root
# with apt-get, install it; otherwise print the command that would, and exit 1.
# terraform is only reported (it is not a Debian package); it never fails the
# run.
#
#   postgres   initdb and postgres       Debian package postgresql
#              psql (libpq's client)     Debian package postgresql-client
#   mariadb    mariadbd, mariadb-install-db  Debian package mariadb-server
#   awscli     aws                        Debian package awscli
#   terraform  terraform                  report only
#
# Installing postgresql may create and start a cluster on port 5432; rotor
# never uses it (internal/local/dbserver starts its own servers).
set -eu

usage() {
	sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//'
}

# has_postgres: initdb and postgres side by side, where internal/dbserver
# looks for them.
has_postgres() {
	for dir in $(pg_config --bindir 2>/dev/null || true) /usr/lib/postgresql/*/bin \
		$(command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"); do
		if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
			return 0
		fi
	done
	return 1
}

has_program() { # name, extra directories...
	name=$1
	shift
	command -v "$name" >/dev/null 2>&1 && return 0
	for dir in "$@"; do
		[ -x "$dir/$name" ] && return 0
	done
	return 1
}

has_mariadb() {
	has_program mariadbd /usr/sbin /usr/libexec && has_program mariadb-install-db /usr/bin
}

has_awscli() { has_program aws; }

# check NAME: prints the Debian package to install when NAME is missing.
check() {
	case $1 in
	postgres)
		pkgs=""
		has_postgres || pkgs="postgresql"
		has_program psql || pkgs="$pkgs postgresql-client"
		# shellcheck disable=SC2086 # unquoted: drops the leading space
		echo $pkgs
		;;
	mariadb) has_mariadb || echo mariadb-server ;;
	awscli) has_awscli || echo awscli ;;
	esac
}

wanted=""
for arg in "$@"; do
	case $arg in
	postgres | postgresql) wanted="$wanted postgres" ;;
	mariadb | mariadb-server) wanted="$wanted mariadb" ;;
	awscli | aws) wanted="$wanted awscli" ;;
	terraform) wanted="$wanted terraform" ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "ensure-deps.sh: unknown dependency '$arg' (want postgres, mariadb, awscli or terraform)" >&2
		exit 2
		;;
	esac
done
[ -n "$wanted" ] || wanted="postgres mariadb awscli terraform"

missing=""
for dep in $wanted; do
	if [ "$dep" = terraform ]; then
		if ! command -v terraform >/dev/null 2>&1; then
			echo "ensure-deps.sh: terraform not found (optional, needed only for the Terraform checks): see https://developer.hashicorp.com/terraform/install" >&2
		fi
		continue
	fi
	pkg=$(check "$dep")
	case " $missing " in
	*" $pkg "*) ;;
	*) [ -n "$pkg" ] && missing="$missing $pkg" ;;
	esac
done
missing=${missing# }
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-deps.sh: missing Debian packages: $missing" >&2
	echo "install them with:" >&2
	echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y $missing" >&2
	exit 1
fi

echo "ensure-deps.sh: installing $missing" >&2
# shellcheck disable=SC2086 # $missing is a list of package names
apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $missing

still=""
for dep in $wanted; do
	[ "$dep" = terraform ] && continue
	pkg=$(check "$dep")
	[ -n "$pkg" ] && still="$still $pkg"
done
if [ -n "$still" ]; then
	echo "ensure-deps.sh: still missing after apt-get install:$still" >&2
	exit 1
fi
