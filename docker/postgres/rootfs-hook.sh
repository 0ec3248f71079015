#!/bin/sh
# mmdebstrap hooks for docker/build-postgres-image.sh; they run on the host,
# as root, with the image's root filesystem as ROOT. Every change inside ROOT
# goes through chroot so that absolute symlinks (/var/run -> /run) can never
# point at the host.
#
#   rootfs-hook.sh setup ROOT KEEP_JIT
#       before anything is unpacked into ROOT (no chroot possible yet)
#   rootfs-hook.sh essential ROOT
#       after Debian's Essential set, before postgresql-<MAJOR> is installed
#   rootfs-hook.sh customize ROOT MAJOR ENTRYPOINT
#       after everything is installed, before the tarball is made
set -eu

stage=$1
root=$2

case "$stage" in
setup)
	keep_jit=$3
	# dpkg (run inside ROOT) leaves these out. Set here rather than with
	# mmdebstrap --dpkgopt, which also pipes every Essential package through
	# a Python tar filter on first extraction (15-20 s more here); the few
	# such files that mmdebstrap's own extraction leaves are removed below.
	mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
	cat >"$root/etc/dpkg/dpkg.cfg.d/docker-excludes" <<-'EOF'
		path-exclude=/usr/share/man/*
		path-exclude=/usr/share/info/*
		path-exclude=/usr/share/lintian/*
		path-exclude=/usr/share/doc/*
		path-include=/usr/share/doc/*/copyright
		path-exclude=/usr/share/locale/*
		path-include=/usr/share/locale/locale.alias
	EOF
	if [ "$keep_jit" != 1 ]; then
		# Only llvmjit.so uses LLVM (and LLVM z3). Without it PostgreSQL
		# runs with JIT unavailable (pg_jit_available() = false), silently.
		# The file is removed at the end (a derived image that wants JIT:
		# apt-get install --reinstall libllvm14 libz3-4 postgresql-15).
		cat >"$root/etc/dpkg/dpkg.cfg.d/zz-assay-no-jit" <<-'EOF'
			path-exclude=/usr/lib/*/libLLVM-*
			path-exclude=/usr/lib/*/libz3.so*
			path-exclude=/usr/lib/postgresql/*/lib/llvmjit*
			path-exclude=/usr/lib/postgresql/*/lib/bitcode/*
		EOF
	fi
	;;
essential)
	# No "main" cluster from the package's postinst: the entrypoint runs
	# initdb into PGDATA on the container's first start.
	chroot "$root" sh -eu -c '
		mkdir -p /etc/postgresql-common/createcluster.d
		echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/00-assay-image.conf
		# The official image gives postgres uid/gid 999 (volumes stay
		# readable across both). useradd is not installed yet at this
		# stage; postgresql-common then finds the user and keeps it.
		grep -q "^postgres:" /etc/group ||
			echo "postgres:x:999:" >>/etc/group
		grep -q "^postgres:" /etc/passwd ||
			echo "postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/bash" >>/etc/passwd
	'
	;;
customize)
	major=$3
	entrypoint=$4
	chroot "$root" sh -eu -c 'cat >/usr/local/bin/docker-entrypoint.sh && chmod 0755 /usr/local/bin/docker-entrypoint.sh' <"$entrypoint"
	# shellcheck disable=SC2016 # expanded inside the chroot
	chroot "$root" sh -eu -c '
		major=$1
		# The official image runs with LANG=en_US.utf8 (initdb takes its
		# locale and UTF8 encoding from it). Generate only that locale,
		# then drop the locale sources (16 MB) that only localedef reads.
		localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8
		rm -rf /usr/share/i18n/charmaps/* /usr/share/i18n/locales/*

		# initdb copies this sample into PGDATA: listen on every address.
		sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '"'*'"'!" \
			/usr/share/postgresql/$major/postgresql.conf.sample
		grep -q "^listen_addresses = '"'*'"'" /usr/share/postgresql/$major/postgresql.conf.sample

		# The socket directory (mmdebstrap empties /run unless told not to:
		# the build script passes --skip=cleanup/run, so do it here).
		find /run -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +
		install -d -o postgres -g postgres -m 03777 /run/postgresql
		install -d -o postgres -g postgres -m 01777 /var/lib/postgresql/data
		install -d -m 0755 /docker-entrypoint-initdb.d

		# What the setup stage keeps out, as far as mmdebstrap unpacked it
		# before dpkg ran (the Essential packages).
		find /usr/share/doc -mindepth 2 ! -type d ! -name copyright -delete
		find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
		rm -rf /usr/share/man/* /usr/share/info/* /usr/share/lintian/*
		rm -f /etc/dpkg/dpkg.cfg.d/zz-assay-no-jit

		# Copied from the host by mmdebstrap; docker mounts its own.
		rm -f /etc/hostname /etc/resolv.conf
		# Logs and backups. NOT /tmp, /var/lib/apt/lists nor /var/cache/apt:
		# mmdebstrap cleans those itself after this hook, and its apt
		# configuration lives in /tmp until then. (Without that file its
		# final "apt-get update" with no sources runs with the HOST apt
		# configuration and empties /var/lib/apt/lists of the HOST.)
		rm -rf /var/cache/debconf/*-old /var/lib/dpkg/*-old /var/log/apt/* \
			/var/log/dpkg.log /var/log/alternatives.log
	' sh "$major"
	;;
*)
	echo "rootfs-hook.sh: unknown stage $stage" >&2
	exit 2
	;;
esac
