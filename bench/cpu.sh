#!/usr/bin/env bash
# bench/cpu.sh: median wall, CPU (user+sys) and peak RSS of 3 inventory runs
# per tool and image, back to back, as a table. CPU time moves much less
# than wall time when the machine is shared. See bench/README.md.
#
#   VIGIL=bench/.work/bin/vigil MAIN=/tmp/vigil-main bench/cpu.sh debian.tar debian1.tar
#
# Images are taken from WORK (default bench/.work); tools are vigil, and
# main and trivy when MAIN and TRIVY (default /work/peers/trivy) are set.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-$PWD/bench/.work}
VIGIL=${VIGIL:-$WORK/bin/vigil}
TRIVY=${TRIVY-$( [ -x /work/peers/trivy ] && echo /work/peers/trivy || true )}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export TRIVY_CACHE_DIR=$T TRIVY_DISABLE_TELEMETRY=true TRIVY_NO_PROGRESS=true
cmd() {
	case $1 in
	vigil) echo "'$VIGIL' image --input '$2' --scanners none --list-all-pkgs --format json --output /dev/null --cache-backend memory" ;;
	main) echo "'$MAIN' image --input '$2' --scanners none --list-all-pkgs --format json --output /dev/null --cache-backend memory" ;;
	trivy) echo "'$TRIVY' image --input '$2' --scanners '' --list-all-pkgs --format json --output /dev/null --cache-backend memory --skip-db-update --skip-java-db-update --offline-scan --skip-version-check --disable-telemetry --quiet" ;;
	esac
}
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
echo "| image | tool | median wall (s) | median CPU user+sys (s) | peak RSS (MB) | load |"
echo "|---|---|---:|---:|---:|---|"
for img in "$@"; do
	for tool in vigil ${MAIN:+main} ${TRIVY:+trivy}; do
		ws=() cs=() rs=()
		for _ in 1 2 3; do
			/usr/bin/time -f '%e %U %S %M' -o "$T/t" bash -c "$(cmd "$tool" "$WORK/$img")" >/dev/null 2>&1
			read -r w u s m <"$T/t"
			ws+=("$w") cs+=("$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')") rs+=("$m")
		done
		printf '| %s | %s | %s | %s | %d | %s |\n' "$img" "$tool" "$(med "${ws[@]}")" "$(med "${cs[@]}")" \
			$(($(med "${rs[@]}") / 1024)) "$(cut -d' ' -f1 /proc/loadavg)"
	done
done
