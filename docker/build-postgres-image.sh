#!/usr/bin/env bash
# Builds a PostgreSQL image locally, with no container registry: a Debian
# root filesystem made by mmdebstrap from the host's own Debian mirror (read
# from /etc/apt/sources.list*, never written here), with postgresql-<MAJOR>
# from the same mirror, imported into docker.
#
#   docker/build-postgres-image.sh [--force] [MAJOR]     (MAJOR defaults to 15)
#
# Tags assay-postgres:<MAJOR> and postgres:<MAJOR> (the name that
# testcontainers-modules' Postgres asks for, so nothing gets pulled). Does
# nothing when assay-postgres:<MAJOR> exists and was built from the same
# recipe (this script, docker/postgres/*, MAJOR); --force rebuilds anyway.
#
# Environment:
#   ASSAY_PG_KEEP_JIT=1      keep LLVM and PostgreSQL's JIT (about +130 MB);
#                            by default they are left out, so jit is unavailable
#   ASSAY_DEBIAN_MIRROR=URI  use this mirror instead of the host's
#   ASSAY_DEBIAN_SUITE=NAME  use this suite instead of the host's codename
#
# Needs root (or sudo) for apt-get and mmdebstrap, and a running docker engine.
# See docker/README.md.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
entrypoint="$here/postgres/docker-entrypoint.sh"
hook="$here/postgres/rootfs-hook.sh"

force=0
major=15
for arg in "$@"; do
	case "$arg" in
	--force | -f) force=1 ;;
	-h | --help)
		sed -n '2,/^set -E/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
		exit 0
		;;
	[0-9]*) major=$arg ;;
	*)
		echo "usage: $0 [--force] [MAJOR]" >&2
		exit 2
		;;
	esac
done
if ! [[ "$major" =~ ^[0-9]+$ ]]; then
	echo "MAJOR must be a number, got '$major'" >&2
	exit 2
fi

tag="assay-postgres:$major"
alias_tag="postgres:$major"
keep_jit=${ASSAY_PG_KEEP_JIT:-0}
recipe=$(cat "${BASH_SOURCE[0]}" "$entrypoint" "$hook" | { cat; echo "major=$major keep_jit=$keep_jit"; } | sha256sum | cut -c1-16)
label=org.assay.postgres.recipe

start=$(date +%s)
say() { printf '[build-postgres-image %3ss] %s\n' "$(($(date +%s) - start))" "$*" >&2; }
die() { say "error: $*"; exit 1; }

sudo=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || die "needs root (apt-get, mmdebstrap)"
	sudo=(sudo)
fi

docker info >/dev/null 2>&1 || die "cannot talk to the docker engine (is it running? may this user use it?)"

# Cached: only the tag (and the recipe label on it) is checked.
have_recipe=$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$tag" 2>/dev/null || true)
if [ "$force" = 0 ] && [ -n "$have_recipe" ]; then
	if [ "$have_recipe" = "$recipe" ]; then
		if ! docker image inspect "$alias_tag" >/dev/null 2>&1; then
			docker tag "$tag" "$alias_tag"
		fi
		say "$tag is already built (recipe $recipe): nothing to do"
		exit 0
	fi
	say "$tag was built from another recipe ($have_recipe, now $recipe): rebuilding"
fi

# Serialise concurrent builds (parallel CI jobs): the second one waits, then
# finds the image.
exec 9>"${TMPDIR:-/tmp}/assay-postgres-image-$major.lock"
flock 9
have_recipe=$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$tag" 2>/dev/null || true)
if [ "$force" = 0 ] && [ "$have_recipe" = "$recipe" ]; then
	say "$tag was built meanwhile: nothing to do"
	exit 0
fi

# --- which Debian, from where -------------------------------------------------
# Prints "URI SUITE" for every enabled binary ("deb") source of the host, from
# both the one-line (.list) and the deb822 (.sources) formats.
host_apt_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk '
			function flush(   n, m, i, j, U, S) {
				if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled !~ /^(no|false|0)$/) {
					n = split(uris, U, /[ \t]+/); m = split(suites, S, /[ \t]+/)
					for (i = 1; i <= n; i++) for (j = 1; j <= m; j++)
						if (U[i] != "" && S[j] != "") print U[i], S[j]
				}
				types = uris = suites = ""; enabled = "yes"
			}
			BEGIN { enabled = "yes" }
			/^[ \t]*$/ { flush(); next }
			/^#/ || /^[ \t]/ { next }
			{
				key = tolower($0); sub(/:.*/, "", key)
				val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
				if (key == "types") types = val
				else if (key == "uris") uris = val
				else if (key == "suites") suites = val
				else if (key == "enabled") enabled = tolower(val)
			}
			END { flush() }
		' "$f"
	done
}

suite=${ASSAY_DEBIAN_SUITE:-}
if [ -z "$suite" ]; then
	# shellcheck disable=SC1091
	suite=$(. /etc/os-release && [ "${ID:-}" = debian ] && echo "${VERSION_CODENAME:-}") || true
	[ -n "$suite" ] || die "the host is not Debian with a codename; set ASSAY_DEBIAN_SUITE (and maybe ASSAY_DEBIAN_MIRROR)"
fi
sources=$(host_apt_sources)
uri_for() { awk -v s="$1" '$2 == s { print $1; exit }' <<<"$sources"; }

mirror=${ASSAY_DEBIAN_MIRROR:-$(uri_for "$suite")}
[ -n "$mirror" ] || die "no apt source for suite '$suite' in /etc/apt/sources.list*; set ASSAY_DEBIAN_MIRROR"
apt_lines=("deb $mirror $suite main")
for extra in "$suite-updates" "$suite-security"; do
	uri=$(uri_for "$extra")
	if [ -n "$uri" ]; then
		apt_lines+=("deb $uri $extra main")
	fi
done
say "building $tag: Debian $suite, postgresql-$major, from: $(printf '%s; ' "${apt_lines[@]}")"

# --- tools ------------------------------------------------------------------------
if ! command -v mmdebstrap >/dev/null; then
	say "installing mmdebstrap (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

# --- root filesystem -> docker import ------------------------------------------
# mmdebstrap works in a private tmpfs when it can mount one (2-3x faster than
# the disk here); it streams the finished tree as a tar straight into docker.
work=$(mktemp -d "${TMPDIR:-/tmp}/assay-postgres-image.XXXXXX")
mounted=0
cleanup() {
	if [ "$mounted" = 1 ]; then "${sudo[@]}" umount -l "$work" || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
if "${sudo[@]}" mount -t tmpfs -o size=4g,mode=0755 tmpfs "$work" 2>/dev/null; then
	mounted=1
fi

hook_opts=()
if [ -d /usr/share/mmdebstrap/hooks/eatmydata ]; then
	# dpkg without fsync: the tree is thrown away on failure anyway.
	hook_opts+=(--hook-dir=/usr/share/mmdebstrap/hooks/eatmydata)
fi
q() { printf '%q' "$1"; }
hook_opts+=(
	--setup-hook="sh $(q "$hook") setup \"\$1\" $(q "$keep_jit")"
	--essential-hook="sh $(q "$hook") essential \"\$1\""
	--customize-hook="sh $(q "$hook") customize \"\$1\" $(q "$major") $(q "$entrypoint")"
)

pg_bin="/usr/lib/postgresql/$major/bin"
say "mmdebstrap | docker import"
mm_log="$work/mmdebstrap.log"
set +e
{
	"${sudo[@]}" env TMPDIR="$work" mmdebstrap \
		--mode=root --variant=minbase --format=tar --skip=cleanup/run \
		--include="postgresql-$major,locales" \
		"${hook_opts[@]}" \
		"$suite" - "${apt_lines[@]}" 2>"$mm_log"
	echo $? >"$work/mmdebstrap.rc"
} | docker import \
	--change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$pg_bin" \
	--change "ENV PG_MAJOR=$major" \
	--change "ENV LANG=en_US.utf8" \
	--change "ENV PGDATA=/var/lib/postgresql/data" \
	--change "VOLUME /var/lib/postgresql/data" \
	--change "EXPOSE 5432" \
	--change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
	--change 'CMD ["postgres"]' \
	--change "LABEL $label=$recipe org.assay.postgres.major=$major org.assay.postgres.debian-suite=$suite" \
	--message "assay-postgres $major: mmdebstrap $suite + postgresql-$major" \
	- >"$work/import.out" 2>&1
import_rc=$?
set -e
mm_rc=$(cat "$work/mmdebstrap.rc" 2>/dev/null || echo '?')
image_id=$(tail -n 1 "$work/import.out")
if [ "$mm_rc" != 0 ] || [ "$import_rc" != 0 ]; then
	tail -n 30 "$mm_log" >&2 || true
	if grep -q "postgresql-$major" "$mm_log" 2>/dev/null && grep -Eqi "unable to locate|no installation candidate|has no installation" "$mm_log"; then
		say "postgresql-$major is not in Debian $suite (apt-cache policy postgresql-$major on the host tells what its mirror has)"
	fi
	if [[ "$image_id" == sha256:* ]]; then docker rmi "$image_id" >/dev/null 2>&1 || true; fi
	die "mmdebstrap (exit $mm_rc) | docker import (exit $import_rc: $image_id) failed"
fi
say "imported rootfs ${image_id:7:12}"

# docker import cannot set STOPSIGNAL: one build step (legacy builder, no
# buildx needed) on top of the imported image, no registry involved.
old_id=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
say "docker build (STOPSIGNAL)"
printf '%s\n' "FROM $image_id" "STOPSIGNAL SIGINT" |
	DOCKER_BUILDKIT=0 docker build --quiet -t "$tag" -t "$alias_tag" - >/dev/null 2>"$work/build.log" ||
	{
		cat "$work/build.log" >&2
		die "docker build failed"
	}
new_id=$(docker image inspect --format '{{.Id}}' "$tag")
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
	# The previous build, now untagged (kept if a container still uses it).
	docker rmi "$old_id" >/dev/null 2>&1 || true
fi

version=$(docker run --rm --entrypoint postgres "$tag" --version)
size=$(docker image inspect --format '{{.Size}}' "$tag")
say "built $tag (= $alias_tag): $version, $((size / 1000000)) MB, in $(($(date +%s) - start)) s"
