#!/usr/bin/env bash
# Entrypoint of the locally built assay-postgres image (see docker/README.md).
#
# Follows the environment contract of the official `postgres` image:
#   POSTGRES_PASSWORD          superuser password (required unless the host auth
#                              method is `trust`)
#   POSTGRES_USER              superuser name                 (default: postgres)
#   POSTGRES_DB                database created on first start (default: $POSTGRES_USER)
#   POSTGRES_HOST_AUTH_METHOD  pg_hba method for host connections
#                              (default: scram-sha-256, md5 before PostgreSQL 14)
#   POSTGRES_INITDB_ARGS       extra arguments for initdb
#   POSTGRES_INITDB_WALDIR     passed to initdb as --waldir
#   <VAR>_FILE                 read any of the above from a file (docker secrets)
#   /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|*.sql.xz|*.sql.zst
#                              run once, after the database is created
#
# Startup matches the official image, log streams included: a first start
# initialises PGDATA, runs a temporary server on the Unix socket only (pg_ctl
# sends its log to STDOUT, so its "database system is ready to accept
# connections" goes to stdout), stops it, then execs the real server (which
# logs to STDERR, so the second readiness line goes to stderr).
# testcontainers-modules' Postgres waits for one on each stream; waits that
# count the line twice in the combined log work as well.
set -Eeuo pipefail

log() { printf '%s\n' "$*"; }
err() { printf '%s\n' "$*" >&2; }

# file_env VAR [DEFAULT]: VAR from $VAR or from the file named by $VAR_FILE.
file_env() {
	local var=$1 def=${2:-}
	local fvar="${var}_FILE"
	local val=$def
	if [ -n "${!var:-}" ] && [ -n "${!fvar:-}" ]; then
		err "error: both $var and $fvar are set (they are exclusive)"
		exit 1
	fi
	if [ -n "${!var:-}" ]; then
		val=${!var}
	elif [ -n "${!fvar:-}" ]; then
		val=$(<"${!fvar}")
	fi
	export "$var"="$val"
	unset "$fvar"
}

# A first argument that looks like an option is an option for postgres.
if [ "$#" -eq 0 ] || [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

if [ "$1" != 'postgres' ]; then
	exec "$@"
fi

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

# As root: make the directories ours, then run this script again as postgres.
if [ "$(id -u)" = '0' ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chmod 00700 "$PGDATA" || :
	chmod 03775 /var/run/postgresql || :
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres: '{}' +
		chmod 700 "$POSTGRES_INITDB_WALDIR"
	fi
	find "$PGDATA" \! -user postgres -exec chown postgres: '{}' +
	find /var/run/postgresql \! -user postgres -exec chown postgres: '{}' +
	export HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres
	exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${BASH_SOURCE[0]}" "$@"
fi

file_env POSTGRES_PASSWORD
file_env POSTGRES_USER postgres
file_env POSTGRES_DB "$POSTGRES_USER"
file_env POSTGRES_INITDB_ARGS
if [ -z "${POSTGRES_HOST_AUTH_METHOD:-}" ]; then
	# Like the official image: whatever password_encryption defaults to.
	if [ "${PG_MAJOR:-15}" -ge 14 ]; then
		POSTGRES_HOST_AUTH_METHOD=scram-sha-256
	else
		POSTGRES_HOST_AUTH_METHOD=md5
	fi
fi
export POSTGRES_HOST_AUTH_METHOD

if [ -s "$PGDATA/PG_VERSION" ]; then
	log
	log 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
	log
	exec "$@"
fi

if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
	err 'Error: Database is uninitialized and superuser password is not specified.'
	err '       Set POSTGRES_PASSWORD to a non-empty value for the superuser, or'
	err '       POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a'
	err '       password (only for tests).'
	exit 1
fi
if [ "$POSTGRES_HOST_AUTH_METHOD" = 'trust' ]; then
	err 'WARNING: POSTGRES_HOST_AUTH_METHOD=trust: every host connection is allowed without a password.'
fi

# --- initdb -----------------------------------------------------------------
initdb_opts=(--username="$POSTGRES_USER")
if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
	initdb_opts+=(--waldir="$POSTGRES_INITDB_WALDIR")
fi
# POSTGRES_INITDB_ARGS is split on whitespace, as the official image does.
# shellcheck disable=SC2206
initdb_opts+=($POSTGRES_INITDB_ARGS)
if [ -n "$POSTGRES_PASSWORD" ]; then
	# (the <(...) file exists only while this one command runs)
	initdb --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") "${initdb_opts[@]}"
else
	initdb "${initdb_opts[@]}"
fi

# Host connections: any address, the chosen method (initdb's own lines keep
# trust for the Unix socket and loopback inside the container).
printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

# --- temporary server: Unix socket only, log to stdout via pg_ctl -----------
export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" \
	-o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start

psql_cmd=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)

if [ "$POSTGRES_DB" != 'postgres' ]; then
	exists=$("${psql_cmd[@]}" --dbname postgres --set db="$POSTGRES_DB" -tA <<-'EOSQL'
		SELECT 1 FROM pg_database WHERE datname = :'db';
	EOSQL
	)
	if [ -z "$exists" ]; then
		"${psql_cmd[@]}" --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db";
		EOSQL
		log
	fi
fi

psql_cmd+=(--dbname "$POSTGRES_DB")
log
for f in /docker-entrypoint-initdb.d/*; do
	[ -e "$f" ] || continue
	case "$f" in
		*.sh)
			if [ -x "$f" ]; then
				log "$0: running $f"
				"$f"
			else
				log "$0: sourcing $f"
				# shellcheck disable=SC1090
				. "$f"
			fi
			;;
		*.sql) log "$0: running $f"; "${psql_cmd[@]}" -f "$f"; log ;;
		*.sql.gz) log "$0: running $f"; gunzip -c "$f" | "${psql_cmd[@]}"; log ;;
		*.sql.xz) log "$0: running $f"; xzcat "$f" | "${psql_cmd[@]}"; log ;;
		*.sql.zst) log "$0: running $f"; zstd -dc "$f" | "${psql_cmd[@]}"; log ;;
		*) log "$0: ignoring $f" ;;
	esac
done
unset PGPASSWORD

pg_ctl -D "$PGDATA" -m fast -w stop

log
log 'PostgreSQL init process complete; ready for start up.'
log

# --- the real server: logs to stderr ------------------------------------------
exec "$@"
