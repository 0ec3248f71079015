#!/usr/bin/env bash
# Smoke test of the image that docker/build-postgres-image.sh builds:
#
#   docker/test-postgres-image.sh [MAJOR]          (MAJOR defaults to 15)
#
# Starts containers the way the official image is used (POSTGRES_PASSWORD;
# POSTGRES_USER + POSTGRES_DB; POSTGRES_HOST_AUTH_METHOD=trust with an init
# script and postgres arguments; no password at all, which must fail),
# connects with psql through the published port, checks the readiness lines
# that testcontainers-modules waits for (one on stdout from the temporary
# init server, one on stderr from the final server), then removes the
# containers (and their volumes). Needs psql on the host.
set -Eeuo pipefail

major=${1:-15}
image="assay-postgres:$major"
ready='database system is ready to accept connections'
containers=()
tmp=$(mktemp -d)
cleanup() {
	if [ "${#containers[@]}" -gt 0 ]; then docker rm -f -v "${containers[@]}" >/dev/null 2>&1 || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

pass=0
fail=0
check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then
		echo "ok   $name"
		pass=$((pass + 1))
	else
		echo "FAIL $name"
		fail=$((fail + 1))
	fi
}

count_on() { # count_on CONTAINER stdout|stderr
	if [ "$2" = stdout ]; then
		docker logs "$1" 2>/dev/null | grep -c "$ready" || true
	else
		docker logs "$1" 2>&1 >/dev/null | grep -c "$ready" || true
	fi
}

# start NAME [docker run args...] -- [postgres args...]; waits until ready,
# leaves the container id in $last.
start() {
	local name=$1 t0
	shift
	local run_args=() pg_args=()
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do run_args+=("$1"); shift; done
	[ "$#" -gt 0 ] && shift
	pg_args=("$@")
	t0=$(date +%s.%N)
	local id
	id=$(docker run -d -p 127.0.0.1:0:5432 "${run_args[@]}" "$image" "${pg_args[@]}")
	containers+=("$id")
	for _ in $(seq 1 300); do
		if [ "$(count_on "$id" stderr)" -ge 1 ] && [ "$(count_on "$id" stdout)" -ge 1 ]; then
			break
		fi
		if [ "$(docker inspect -f '{{.State.Running}}' "$id")" != true ]; then break; fi
		sleep 0.1
	done
	printf '%s: ready after %.1f s\n' "$name" "$(echo "$(date +%s.%N) - $t0" | bc)" >&2
	last=$id
}

port_of() { docker port "$1" 5432/tcp | head -n 1 | sed 's/.*://'; }

# 1. POSTGRES_PASSWORD only: user postgres, database postgres, scram-sha-256.
start c1 -e POSTGRES_PASSWORD=secret --
c1=$last
p1=$(port_of "$c1")
check "password: select version() over TCP" \
	psql -qtA "postgresql://postgres:secret@127.0.0.1:$p1/postgres" -c 'select version()'
check "password: wrong password refused" \
	bash -c "! PGCONNECT_TIMEOUT=5 psql -qtA 'postgresql://postgres:wrong@127.0.0.1:$p1/postgres' -c 'select 1' 2>/dev/null"
check "password: readiness line once on stdout (temporary server)" [ "$(count_on "$c1" stdout)" = 1 ]
check "password: readiness line once on stderr (final server)" [ "$(count_on "$c1" stderr)" = 1 ]
check "password: UTF8, en_US.utf8, listen '*', scram" bash -c "
	[ \"\$(psql -qtA 'postgresql://postgres:secret@127.0.0.1:$p1/postgres' -c \"select current_setting('server_encoding') || ' ' || datcollate || ' ' || current_setting('listen_addresses') || ' ' || current_setting('password_encryption') from pg_database where datname = 'postgres'\")\" = 'UTF8 en_US.utf8 * scram-sha-256' ]"
check "password: pg_hba has 'host all all all scram-sha-256'" \
	docker exec "$c1" grep -qx 'host all all all scram-sha-256' /var/lib/postgresql/data/pg_hba.conf
check "password: server runs as postgres (uid 999), PID 1" bash -c "
	[ \"\$(docker exec $c1 sh -c 'stat -c %u /var/lib/postgresql/data; tr \"\\0\" \" \" </proc/1/cmdline')\" = \$'999\npostgres ' ]"

# 2. POSTGRES_USER + POSTGRES_DB, password given through a _FILE.
printf 'pw2\n' >"$tmp/pw"
chmod 644 "$tmp/pw"
start c2 -e POSTGRES_USER=alice -e POSTGRES_DB=shop -e POSTGRES_PASSWORD_FILE=/run/pw -v "$tmp/pw:/run/pw:ro" --
c2=$last
p2=$(port_of "$c2")
check "user+db: alice@shop, alice is superuser" bash -c "
	[ \"\$(psql -qtA 'postgresql://alice:pw2@127.0.0.1:$p2/shop' -c 'select current_user, current_database(), rolsuper from pg_roles where rolname = current_user')\" = 'alice|shop|t' ]"
check "user+db: no role postgres" bash -c "
	[ \"\$(psql -qtA 'postgresql://alice:pw2@127.0.0.1:$p2/shop' -c \"select count(*) from pg_roles where rolname = 'postgres'\")\" = 0 ]"

# 3. trust, no password, an init script, postgres args after the image name.
cat >"$tmp/01-init.sql" <<'SQL'
CREATE TABLE seeded (n int);
INSERT INTO seeded VALUES (42);
SQL
cat >"$tmp/02-init.sh" <<'SH'
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -c 'CREATE TABLE from_sh ()'
SH
start c3 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=t3 -e 'POSTGRES_INITDB_ARGS=--data-checksums --locale=C.UTF-8' \
	-v "$tmp/01-init.sql:/docker-entrypoint-initdb.d/01-init.sql:ro" \
	-v "$tmp/02-init.sh:/docker-entrypoint-initdb.d/02-init.sh:ro" \
	-- -c fsync=off -c max_connections=42
c3=$last
p3=$(port_of "$c3")
check "trust: connect without password, args reached postgres, initdb args applied, init scripts ran" bash -c "
	[ \"\$(psql -qtA 'postgresql://postgres@127.0.0.1:$p3/t3' -c \"select current_setting('fsync'), current_setting('max_connections'), current_setting('data_checksums'), current_setting('lc_collate'), (select n from seeded), to_regclass('from_sh') is not null\")\" = 'off|42|on|C.UTF-8|42|t' ]"
check "trust: readiness lines (stdout 1, stderr 1)" \
	[ "$(count_on "$c3" stdout)/$(count_on "$c3" stderr)" = 1/1 ]

# 4. Restart: the data directory is kept, no second init.
docker restart -t 10 "$c3" >/dev/null
for _ in $(seq 1 100); do [ "$(count_on "$c3" stderr)" -ge 2 ] && break; sleep 0.1; done
p3=$(port_of "$c3")
check "restart: skips init, data kept" bash -c "
	docker logs $c3 2>/dev/null | grep -q 'Skipping initialization' &&
	[ \"\$(psql -qtA 'postgresql://postgres@127.0.0.1:$p3/t3' -c 'select n from seeded')\" = 42 ]"
check "restart: stopped by SIGINT (fast shutdown)" bash -c "
	docker logs $c3 2>&1 | grep -q 'received fast shutdown request'"

# 5. Neither password nor trust: refuses to initialise, like the official image.
c4=$(docker run -d "$image")
containers+=("$c4")
docker wait "$c4" >/dev/null
check "no password: exits 1 with an error" bash -c "
	[ \"\$(docker inspect -f '{{.State.ExitCode}}' $c4)\" = 1 ] &&
	docker logs $c4 2>&1 | grep -q 'superuser password is not specified'"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
