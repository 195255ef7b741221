#!/usr/bin/env bash
# bench/lockfiles.sh: `vigil fs` against `trivy fs` and `syft dir:` on the
# real repositories' lockfiles and manifests in ../shared/data/lockfiles
# (inventory only, no database): median wall and peak RSS of 3 runs each,
# and how many packages each tool listed. See bench/README.md.
#
#   bench/lockfiles.sh                    # the five largest repositories
#   bench/lockfiles.sh npm-cli excalidraw # these
set -euo pipefail
cd "$(dirname "$0")/.."
LOCKS=${LOCKS:-$PWD/../shared/data/lockfiles}
VIGIL=${VIGIL:-$PWD/bench/.work/bin/vigil}
TRIVY=${TRIVY-$([ -x /work/peers/trivy ] && echo /work/peers/trivy || true)}
SYFT=${SYFT-$([ -x /work/peers/syft ] && echo /work/peers/syft || true)}
[ -d "$LOCKS" ] || { echo "no $LOCKS" >&2; exit 1; }
mkdir -p "$(dirname "$VIGIL")"
go build -o "$VIGIL" ./cmd/vigil
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export TRIVY_CACHE_DIR=$T/trivy TRIVY_DISABLE_TELEMETRY=true TRIVY_NO_PROGRESS=true SYFT_CHECK_FOR_APP_UPDATE=false
repos=("$@")
if ((${#repos[@]} == 0)); then
	mapfile -t repos < <(cd "$LOCKS" && du -s */ | sort -rn | head -5 | awk '{sub("/$","",$2); print $2}')
fi
cmd() { # tool dir out
	case $1 in
	vigil) echo "'$VIGIL' fs '$2' --cache-dir '$T/vigil' --scanners none --list-all-pkgs --include-dev-deps --format json --output '$3'" ;;
	trivy) echo "'$TRIVY' fs '$2' --scanners '' --list-all-pkgs --include-dev-deps --format json --output '$3' --skip-db-update --skip-java-db-update --offline-scan --skip-version-check --disable-telemetry --quiet" ;;
	syft) echo "'$SYFT' scan 'dir:$2' -o 'syft-json=$3' -q" ;;
	esac
}
count() { # tool out
	case $1 in
	vigil | trivy) jq '[.Results[]?.Packages[]?, .results[]?.packages[]?] | length' "$2" ;;
	syft) jq '.artifacts | length' "$2" ;;
	esac
}
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
echo "| repository | tool | median wall (s) | peak RSS (MB) | packages |"
echo "|---|---|---:|---:|---:|"
for r in "${repos[@]}"; do
	for tool in vigil ${TRIVY:+trivy} ${SYFT:+syft}; do
		ws=() rs=()
		for _ in 1 2 3; do
			/usr/bin/time -f '%e %M' -o "$T/t" bash -c "$(cmd "$tool" "$LOCKS/$r" "$T/out.json")" >/dev/null 2>"$T/err" || { echo "$tool $r failed: $(tail -3 "$T/err")" >&2; }
			read -r w m <"$T/t"
			ws+=("$w") rs+=("$m")
		done
		printf '| %s | %s | %s | %d | %s |\n' "$r" "$tool" "$(med "${ws[@]}")" $(($(med "${rs[@]}") / 1024)) "$(count "$tool" "$T/out.json" 2>/dev/null || echo '?')"
	done
done
