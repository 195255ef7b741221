#!/usr/bin/env bash
# bench/run.sh: build the benchmark images, then time vigil's inventory
# against Trivy, Syft and the decompression floor, and compare what each
# tool found. See bench/README.md.
#
# Environment:
#   TRIVY, SYFT   paths to the peer binaries (default: /work/peers/{trivy,syft}
#                 when present); a peer set empty or not executable is skipped
#   RUNS          timed runs per command (default 5)
#   IMAGES        which images: "debian node alpine" (default all)
#   ALPINE        the alpine archive (default /work/shared/data/images/alpine-310.tar.gz)
#   WORK          scratch directory for images and outputs (default bench/.work)
#   HYPERFINE     hyperfine binary; set empty to time with a plain loop
#   GOBENCH=1     also run the Go benchmarks of layerfs and the catalogers
#   PROFILE=1     also profile vigil on the Debian image (top CPU functions)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-$ROOT/bench/.work}
RUNS=${RUNS:-5}
IMAGES=${IMAGES:-debian node alpine}
ALPINE=${ALPINE:-/work/shared/data/images/alpine-310.tar.gz}
TRIVY=${TRIVY-$( [ -x /work/peers/trivy ] && echo /work/peers/trivy || true )}
SYFT=${SYFT-$( [ -x /work/peers/syft ] && echo /work/peers/syft || true )}
BIN=$WORK/bin
OUT=$WORK/out
mkdir -p "$BIN" "$OUT"

log() { printf '== %s\n' "$*" >&2; }

[ -x /usr/bin/time ] || { echo "need GNU time: apt-get install time" >&2; exit 1; }
HYPERFINE=${HYPERFINE-$(command -v hyperfine || true)}

log "building vigil and the bench tools"
for t in cmd/vigil bench/mkimage bench/floor bench/profile bench/compare; do
	go build -o "$BIN/$(basename "$t")" "./$t"
done
VIGIL=$BIN/vigil

for p in TRIVY SYFT; do
	if [ -n "${!p}" ] && [ ! -x "${!p}" ]; then
		log "$p=${!p} is not executable; skipped"
		printf -v "$p" '%s' ""
	fi
done
[ -n "$TRIVY" ] && log "trivy: $TRIVY ($("$TRIVY" --version 2>/dev/null | head -1))" || log "trivy: absent, skipped"
[ -n "$SYFT" ] && log "syft: $SYFT ($("$SYFT" version 2>/dev/null | sed -n 's/^Version: *//p'))" || log "syft: absent, skipped"

# ---- images -----------------------------------------------------------

# debian: three layers copied from this machine's Debian root. Layer 1 holds
# the dpkg database and part of /usr/lib, layer 2 binaries and docs, layer 3
# sbin and the Python dist-packages. Only world-readable files are copied.
build_debian() {
	local out=$WORK/debian.tar
	[ -f "$out" ] && return
	[ -f /var/lib/dpkg/status ] || { log "no /var/lib/dpkg/status: not a Debian host, debian image skipped"; return; }
	log "building $out"
	"$BIN/mkimage" -o "$out" -tag bench/debian:host \
		-layer /bin,/lib,/lib64,/sbin,/etc/os-release,/etc/debian_version,/etc/dpkg,/etc/apt,/etc/alternatives,/etc/ld.so.conf.d,/etc/passwd,/etc/group,/var/lib/dpkg,/usr/lib/os-release,/usr/lib/x86_64-linux-gnu:100 \
		-layer /usr/bin:80,/usr/share/doc:40 \
		-layer /usr/sbin,/usr/lib/python3:60
}

# node: two real npm projects installed from the npm registry (with
# --ignore-scripts: nothing is run), on top of a base layer that only names
# the OS.
build_node() {
	local out=$WORK/node.tar dir=$WORK/node
	[ -f "$out" ] && return
	command -v npm >/dev/null || { log "no npm: node image skipped"; return; }
	npm_project "$dir/app" react-scripts@5.0.1 @angular/cli@17 express@4 lodash@4 typescript@5 || return 0
	npm_project "$dir/app2" gatsby@5 @nestjs/cli@10 @vue/cli@5 || return 0
	log "building $out"
	"$BIN/mkimage" -o "$out" -tag bench/node:npm \
		-layer /etc/os-release,/usr/lib/os-release,/etc/debian_version \
		-layer "$dir/app=srv/app" \
		-layer "$dir/app2=srv/app2"
}

npm_project() {
	local dir=$1; shift
	[ -d "$dir/node_modules" ] && return
	log "npm install into $dir: $*"
	mkdir -p "$dir"
	echo "{\"name\":\"$(basename "$dir")\",\"version\":\"1.0.0\",\"private\":true}" >"$dir/package.json"
	if ! (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --legacy-peer-deps --loglevel=error "$@" >&2); then
		log "npm install failed: node image skipped"
		rm -rf "$dir/node_modules"
		return 1
	fi
}

declare -A IMG=()
for i in $IMAGES; do
	case $i in
	debian) build_debian; [ -f "$WORK/debian.tar" ] && IMG[debian]=$WORK/debian.tar ;;
	node) build_node; [ -f "$WORK/node.tar" ] && IMG[node]=$WORK/node.tar ;;
	alpine) if [ -f "$ALPINE" ]; then IMG[alpine]=$ALPINE; else log "$ALPINE absent: skipped"; fi ;;
	*) log "unknown image $i" ;;
	esac
done

# ---- measuring ---------------------------------------------------------

# Trivy: inventory only (--scanners '' needs no vulnerability DB), offline,
# with an in-memory cache so every run analyses the layers afresh.
TRIVY_TMP=$(mktemp -d)
SYFT_TMP=$(mktemp -d)
trap 'rm -rf "$TRIVY_TMP" "$SYFT_TMP"' EXIT
export TRIVY_CACHE_DIR=$TRIVY_TMP TRIVY_DISABLE_TELEMETRY=true TRIVY_NO_PROGRESS=true
export SYFT_CHECK_FOR_APP_UPDATE=false TMPDIR=$SYFT_TMP

cmd_for() { # tool image-path output-path
	case $1 in
	floor) echo "'$BIN/floor' '$2'" ;;
	vigil) echo "'$VIGIL' image --input '$2' --scanners none --list-all-pkgs --format json --output '$3'" ;;
	trivy) echo "'$TRIVY' image --input '$2' --scanners '' --list-all-pkgs --format json --output '$3' --cache-backend memory --skip-db-update --skip-java-db-update --offline-scan --skip-version-check --disable-telemetry --quiet" ;;
	syft) echo "'$SYFT' scan 'docker-archive:$(plain_tar "$2")' -o 'json=$3' -q" ;;
	esac
}

# plain_tar prints the path of an uncompressed copy of a docker-save
# archive that is gzip-compressed as a whole (Syft reads only plain tars);
# other archives are returned as they are.
plain_tar() {
	if [ "$(head -c2 "$1" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
		local out=$WORK/$(basename "$1" .gz).plain.tar
		[ -f "$out" ] || gzip -dc "$1" >"$out"
		echo "$out"
	else
		echo "$1"
	fi
}

# measure tool image: prints "median_seconds peak_rss_mb".
measure() {
	local tool=$1 name=$2 img=${IMG[$2]} out=$OUT/$1-$2.json
	local cmd rss
	cmd=$(cmd_for "$tool" "$img" "$out")
	# One run under GNU time: peak RSS, and the output kept for comparison.
	if ! /usr/bin/time -f '%M' -o "$OUT/$tool-$name.rss" bash -c "$cmd" >"$OUT/$tool-$name.log" 2>&1; then
		log "$tool on $name failed; see $OUT/$tool-$name.log"
		echo "fail fail"
		return
	fi
	rss=$(( $(tail -1 "$OUT/$tool-$name.rss") / 1024 ))
	if [ -n "$HYPERFINE" ]; then
		hyperfine --runs "$RUNS" --style none --export-json "$OUT/$tool-$name.hf.json" "$cmd" >/dev/null 2>&1
		echo "$(jq -r '.results[0].median' "$OUT/$tool-$name.hf.json") $rss"
	else
		local ts=()
		for _ in $(seq "$RUNS"); do
			local s e
			s=$(date +%s.%N); bash -c "$cmd" >/dev/null 2>&1; e=$(date +%s.%N)
			ts+=("$(awk -v s="$s" -v e="$e" 'BEGIN{print e - s}')")
		done
		echo "$(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') $rss"
	fi
}

pkg_count() { # tool output-json
	case $1 in
	vigil) jq '[.results[]?.packages[]?] | length' "$2" ;;
	trivy) jq '[.Results[]?.Packages[]?] | length' "$2" ;;
	syft) jq '.artifacts | length' "$2" ;;
	*) echo - ;;
	esac
}

TABLE=$OUT/table.md
{
	echo "| image | tool | median wall (s) | peak RSS (MB) | × floor | vigil/tool wall | vigil/tool RSS | packages |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
} >"$TABLE"

for name in debian node alpine; do
	[ -n "${IMG[$name]:-}" ] || continue
	size=$(du -m "${IMG[$name]}" | cut -f1)
	log "$name (${IMG[$name]}, $size MB): $RUNS runs each"
	declare -A T=() R=()
	for tool in floor vigil trivy syft; do
		case $tool in trivy) [ -n "$TRIVY" ] || continue ;; syft) [ -n "$SYFT" ] || continue ;; esac
		read -r T[$tool] R[$tool] < <(measure "$tool" "$name")
		log "  $tool: ${T[$tool]} s, ${R[$tool]} MB"
	done
	for tool in floor vigil trivy syft; do
		[ -n "${T[$tool]:-}" ] || continue
		if [ "${T[$tool]}" = fail ]; then
			echo "| $name | $tool | failed | | | | | |" >>"$TABLE"
			continue
		fi
		xfloor=$(awk -v a="${T[$tool]}" -v b="${T[floor]}" 'BEGIN{printf "%.2f", a/b}')
		rw=-; rr=-
		if [ "$tool" != floor ] && [ "$tool" != vigil ] && [ "${T[vigil]}" != fail ]; then
			rw=$(awk -v a="${T[vigil]}" -v b="${T[$tool]}" 'BEGIN{printf "%.2f", a/b}')
			rr=$(awk -v a="${R[vigil]}" -v b="${R[$tool]}" 'BEGIN{printf "%.2f", a/b}')
		fi
		n=-
		[ "$tool" != floor ] && n=$(pkg_count "$tool" "$OUT/$tool-$name.json")
		printf '| %s | %s | %.2f | %s | %s | %s | %s | %s |\n' "$name" "$tool" "${T[$tool]}" "${R[$tool]}" "$xfloor" "$rw" "$rr" "$n" >>"$TABLE"
	done
	args=()
	for tool in vigil trivy syft; do
		[ -f "$OUT/$tool-$name.json" ] && [ "${T[$tool]:-fail}" != fail ] && args+=("-$tool" "$OUT/$tool-$name.json")
	done
	"$BIN/compare" "${args[@]}" >"$OUT/compare-$name.md"
	unset T R
done

echo
echo "## Timing ($RUNS runs, median; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
cat "$TABLE"
for name in debian node alpine; do
	[ -n "${IMG[$name]:-}" ] || continue
	echo
	echo "## Packages found: $name"
	echo
	cat "$OUT/compare-$name.md"
done

if [ "${GOBENCH:-0}" = 1 ]; then
	echo
	echo "## Go benchmarks"
	echo
	echo '```'
	go test -run '^$' -bench . -benchtime 5x -benchmem ./layerfs/ ./catalog/... 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)' || true
	echo '```'
fi

if [ "${PROFILE:-0}" = 1 ] && [ -n "${IMG[debian]:-}" ]; then
	echo
	echo "## vigil CPU profile, Debian image (3 scans)"
	echo
	echo '```'
	"$BIN/profile" -n 3 -cpuprofile "$OUT/cpu.out" -memprofile "$OUT/mem.out" "${IMG[debian]}"
	go tool pprof -top -nodecount 25 "$BIN/profile" "$OUT/cpu.out" 2>/dev/null | sed -n '4,40p'
	echo '```'
fi
