#!/bin/sh
# gen.sh regenerates the rpm databases in this directory with real tools.
# Run by hand (not in CI). Needs the Debian packages rpm, db5.3-util,
# sqlite3, xz-utils, curl and gcc: apt-get install rpm db5.3-util sqlite3 xz-utils curl gcc
# The packages claim Red Hat as their vendor, as RHEL's do, so that vigil
# matches them against Red Hat advisories (third-party vendors are not).
#
#   rpmdb.sqlite      rpm --initdb + rpm -i --justdb of three tiny packages
#   Packages.db       ndb (SUSE's format) holding the same header blobs,
#                     written by rpm's own ndb code: Debian's rpm is built
#                     without the ndb backend (rpm --showrc: "available
#                     backends: sqlite bdb_ro dummy"), so ndbgen.c, a small
#                     driver, is compiled with lib/backend/ndb/rpmpkg.c from
#                     Debian's rpm 4.18.0 source and the installed
#                     librpmio, and puts each blob as the backend's
#                     ndb_Put does (rpmpkgNextPkgIdx, rpmpkgPut), then reads
#                     them back (rpmpkgVerify, rpmpkgList, rpmpkgGet).
#   Packages          Berkeley DB hash, little-endian, 4096-byte pages,
#                     loaded with db5.3_load from the sqlite header blobs
#   Packages.be512    Berkeley DB hash, big-endian, 512-byte pages (every
#                     header spans overflow pages)
#   Packages.le16k    Berkeley DB hash, little-endian, 16 KiB pages (the
#                     headers fit on the hash pages, no overflow)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/SPECS"
# spec NAME EPOCH VERSION RELEASE LICENSE
spec() {
	cat >"$work/SPECS/$1.spec" <<SPEC
Name: $1
${2:+Epoch: $2}
Version: $3
Release: $4
Summary: vigil test package $1
License: $5
Vendor: Red Hat, Inc.
Packager: Vigil <test@example.org>
BuildArch: noarch

%description
A tiny package for vigil's rpm cataloger tests.

%install
mkdir -p %{buildroot}/usr/share/$1 %{buildroot}/etc
echo $1 > %{buildroot}/usr/share/$1/README
echo conf > %{buildroot}/etc/$1.conf

%files
/usr/share/$1/README
%config /etc/$1.conf
SPEC
}
spec vigil-alpha 2 1.0 1 MIT
spec vigil-beta "" 2.3.4 5.el9 "ASL 2.0"
spec vigil-gamma 0 0.9 3 "GPL-2.0-or-later"

build() {
	rpmbuild --quiet --define "_topdir $work" "$@"
}
build -bb "$work/SPECS/vigil-alpha.spec"
build -bb --define 'modularitylabel vigil:1.0:8080020230613112800:63b34585' "$work/SPECS/vigil-beta.spec"
build -bb "$work/SPECS/vigil-gamma.spec"

rpms=$(find "$work/RPMS" -name '*.rpm' | sort)

mkdir -p "$work/sqlite"
rpm --dbpath "$work/sqlite" --define '_db_backend sqlite' --initdb
rpm --dbpath "$work/sqlite" --define '_db_backend sqlite' -i --justdb --nodeps $rpms
cp "$work/sqlite/rpmdb.sqlite" "$here/rpmdb.sqlite"


# Berkeley DB: keys are the header numbers (4 bytes, host order as rpm
# wrote them: little-endian on x86), values the header blobs.
dump() { # LORDER
	printf 'VERSION=3\nformat=bytevalue\ntype=hash\nHEADER=END\n'
	sqlite3 "$work/sqlite/rpmdb.sqlite" "SELECT hnum, hex(blob) FROM Packages ORDER BY hnum" |
		while IFS='|' read -r hnum hex; do
			if [ "$1" = 1234 ]; then
				printf ' %02x000000\n' "$hnum"
			else
				printf ' 000000%02x\n' "$hnum"
			fi
			printf ' %s\n' "$(echo "$hex" | tr 'A-F' 'a-f')"
		done
	printf 'DATA=END\n'
}
rm -f "$here/Packages" "$here/Packages.be512" "$here/Packages.le16k"
dump 1234 | db5.3_load -c db_lorder=1234 -c db_pagesize=4096 "$here/Packages"
dump 4321 | db5.3_load -c db_lorder=4321 -c db_pagesize=512 "$here/Packages.be512"
dump 1234 | db5.3_load -c db_lorder=1234 -c db_pagesize=16384 "$here/Packages.le16k"
# ndb, with rpm's own rpmpkg.c.
src=rpm_4.18.0+dfsg.orig.tar.xz
curl -sfL -o "$work/$src" "http://deb.debian.org/debian/pool/main/r/rpm/$src"
echo "d0d9c58c036bc6308de6e195e898c10bf53eaef6f962c48b403e7cd262f4eb4d  $work/$src" | sha256sum -c -
tar -C "$work" -xf "$work/$src"
printf '#define HAVE_UNISTD_H 1\n#define HAVE_LIMITS_H 1\n#define HAVE_STPCPY 1\n#define HAVE_STPNCPY 1\n#define HAVE___PROGNAME 1\n#define _GNU_SOURCE 1\n' >"$work/config.h"
r="$work/rpm-4.18.0"
gcc -O1 -DHAVE_CONFIG_H -I"$work" -I"$r" -I"$r/include" -I"$r/lib/backend/ndb" -o "$work/ndbgen" \
	"$here/ndbgen.c" "$r/lib/backend/ndb/rpmpkg.c" /usr/lib/x86_64-linux-gnu/librpmio.so.9
mkdir -p "$work/blobs"
blobs=
for hnum in $(sqlite3 "$work/sqlite/rpmdb.sqlite" "SELECT hnum FROM Packages ORDER BY hnum"); do
	sqlite3 "$work/sqlite/rpmdb.sqlite" "SELECT hex(blob) FROM Packages WHERE hnum=$hnum" | xxd -r -p >"$work/blobs/$hnum"
	blobs="$blobs $work/blobs/$hnum"
done
rm -f "$here/Packages.db"
"$work/ndbgen" "$here/Packages.db" $blobs

ls -l "$here"
