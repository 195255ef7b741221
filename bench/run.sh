#!/usr/bin/env bash
# bench/run.sh: build the benchmark images, then time vigil's inventory
# against Trivy, Syft and the decompression floor, and compare what each
# tool found. See bench/README.md.
#
# Environment:
#   TRIVY, SYFT   paths to the peer binaries (default: /work/peers/{trivy,syft}
#                 when present); a peer set empty or not executable is skipped
#   RUNS          timed runs per command (default 5)
#   IMAGES        which images: "debian debian1 debiansave node alpine big"
#                 (default "debian debian1 debiansave node alpine")
#   ALPINE        the alpine archive (default /work/shared/data/images/alpine-310.tar.gz)
#   WORK          scratch directory for images and outputs (default bench/.work)
#   HYPERFINE     hyperfine binary; set empty to time with a plain loop
#   GOBENCH=1     also run the Go benchmarks of layerfs and the catalogers
#   PROFILE=1     also profile vigil on the Debian image (top CPU functions)
#   VULN=1        also time full vulnerability scans of the Debian image by
#                 vigil and Trivy on one synthetic Debian advisory set
#                 (bench/mkfeeds; needs TRIVYDB, the trivy-db builder) and
#                 compare their findings
#   TRIVYDB       trivy-db binary (default /work/peers/trivy-db when present)
#   VIGIL_BASE    another vigil binary (e.g. built from main) timed beside
#                 this one as tool "base"
#   INFLATE=1     also time one large gzip layer inflated alone: vigil's
#                 inflater on 1 and 2 cores, klauspost/compress, zlib's
#                 gzip and libdeflate (libdeflate-gunzip, apt libdeflate-tools)
#   COLDVULN=1    also time a cold vulnerability scan of Alpine plus one Go
#                 binary (database from ../shared feeds: alpine, osv:Go)
#   CVES          issues generated for VULN=1 (default 2000)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-$ROOT/bench/.work}
RUNS=${RUNS:-5}
IMAGES=${IMAGES:-debian debian1 debiansave node alpine}
BIG_GB=${BIG_GB:-0.25 0.5 1}
ALL_IMAGES="debian debian1 debiansave node alpine $(for g in $BIG_GB; do printf 'big%s ' "$g"; done)"
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
for t in cmd/vigil bench/mkimage bench/floor bench/profile bench/compare bench/mkfeeds bench/vulncompare bench/mkbig bench/resave bench/inflate; do
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

# debian1: the same files, most of them in one large layer (as in the
# issue's Debian image: one layer holds most of the bytes, so reading it is
# the critical path whatever the number of cores).
build_debian1() {
	local out=$WORK/debian1.tar
	[ -f "$out" ] && return
	[ -f /var/lib/dpkg/status ] || return
	log "building $out"
	"$BIN/mkimage" -o "$out" -tag bench/debian1:host \
		-layer /bin,/lib,/lib64,/sbin,/etc/os-release,/etc/debian_version,/etc/dpkg,/etc/apt,/etc/alternatives,/etc/ld.so.conf.d,/etc/passwd,/etc/group,/var/lib/dpkg,/usr/lib/os-release \
		-layer /usr/lib/x86_64-linux-gnu:180,/usr/bin:80,/usr/share/doc:40 \
		-layer /usr/sbin,/usr/lib/python3:60
}

# debiansave: the debian image as `docker save | gzip` leaves it: plain
# layer tars in an archive gzip'd as a whole.
build_debiansave() {
	local out=$WORK/debian-save.tar.gz
	[ -f "$out" ] && return
	build_debian
	[ -f "$WORK/debian.tar" ] || return
	log "building $out"
	"$BIN/resave" -o "$WORK/debian-save.tar" "$WORK/debian.tar"
	gzip -6 -f "$WORK/debian-save.tar"
}

# bigN: bench/mkbig, N GB of layers (4 layers) holding a fixed set of
# 50,000 package.json files, 2,000 jars and 2,000 Python dist-info
# directories, the rest filler: time should grow with N, memory not.
build_big() {
	local gb=$1 out=$WORK/big-$1.tar
	[ -f "$out" ] && return
	log "building $out"
	"$BIN/mkbig" -o "$out" -gb "$gb" -npm 50000 -jars 2000 -wheels 2000 -layers 4
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
	debian1) build_debian1; [ -f "$WORK/debian1.tar" ] && IMG[debian1]=$WORK/debian1.tar ;;
	debiansave) build_debiansave; [ -f "$WORK/debian-save.tar.gz" ] && IMG[debiansave]=$WORK/debian-save.tar.gz ;;
	big) for g in $BIG_GB; do build_big "$g"; IMG[big$g]=$WORK/big-$g.tar; done ;;
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
	vigil) echo "'$VIGIL' image --input '$2' --scanners none --list-all-pkgs --format json --output '$3' --cache-backend memory" ;;
	base) echo "'$VIGIL_BASE' image --input '$2' --scanners none --list-all-pkgs --format json --output '$3' --cache-backend memory" ;;
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

for name in $ALL_IMAGES; do
	[ -n "${IMG[$name]:-}" ] || continue
	size=$(du -m "${IMG[$name]}" | cut -f1)
	log "$name (${IMG[$name]}, $size MB): $RUNS runs each"
	declare -A T=() R=()
	for tool in floor vigil base trivy syft; do
		case $tool in trivy) [ -n "$TRIVY" ] || continue ;; syft) [ -n "$SYFT" ] || continue ;; base) [ -n "${VIGIL_BASE:-}" ] || continue ;; esac
		read -r T[$tool] R[$tool] < <(measure "$tool" "$name")
		log "  $tool: ${T[$tool]} s, ${R[$tool]} MB"
	done
	for tool in floor vigil base trivy syft; do
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
for name in $ALL_IMAGES; do
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

# ---- one gzip stream (INFLATE=1) ------------------------------------------

# The largest layer of debian1, inflated alone by each implementation; the
# output is discarded. Wall and CPU time are medians of RUNS runs.
if [ "${INFLATE:-0}" = 1 ] && [ -n "${IMG[debian1]:-}" ]; then
	L=$WORK/layers1
	if [ ! -d "$L" ]; then mkdir -p "$L" && tar xf "${IMG[debian1]}" -C "$L"; fi
	big=$(ls -S "$L"/*.tar.gz | head -1)
	echo
	echo "## One gzip stream: $(basename "$big") ($(du -m "$big" | cut -f1) MB; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
	echo
	echo '```'
	"$BIN/inflate" -runs "$RUNS" -workers 1 "$big"
	"$BIN/inflate" -runs "$RUNS" -workers 2 "$big"
	"$BIN/inflate" -runs "$RUNS" -impl klauspost "$big"
	for cmd in "gzip -dc" "libdeflate-gunzip -c"; do
		command -v "${cmd%% *}" >/dev/null || continue
		ts=()
		for _ in $(seq "$RUNS"); do
			s=$(date +%s.%N); $cmd "$big" >/dev/null; e=$(date +%s.%N)
			ts+=("$(awk -v s="$s" -v e="$e" 'BEGIN{print e - s}')")
		done
		printf '%s\t%s\twall %s s (median)\n' "$big" "$cmd" "$(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
	done
	echo '```'
fi

# ---- cold vulnerability scan of a small image (COLDVULN=1) ----------------

# Alpine 3.10 (from ../shared) plus one Go binary (vigil itself) in a
# second layer; database built from the shared alpine-secdb and Go
# vulnerability database snapshots; no layer cache.
if [ "${COLDVULN:-0}" = 1 ] && [ -f "$ALPINE" ] && [ -d /work/shared/data/feeds/go-vulndb/ID ]; then
	C=$WORK/coldvuln
	if [ ! -f "$C/alpine-go.tar" ]; then
		rm -rf "$C" && mkdir -p "$C/rootfs" "$C/x" "$C/osv/Go"
		tar xzf "$ALPINE" -C "$C/x"
		tar xf "$(ls "$C"/x/*/layer.tar | head -1)" -C "$C/rootfs"
		A=$C/rootfs
		"$BIN/mkimage" -o "$C/alpine-go.tar" -tag bench/alpine-go:1 \
			-layer "$A/bin=bin,$A/etc=etc,$A/lib=lib,$A/sbin=sbin,$A/usr=usr,$A/var=var" -layer "$VIGIL=usr/local/bin/app"
		(cd /work/shared/data/feeds/go-vulndb/ID && zip -q -j "$C/osv/Go/all.zip" ./*.json)
		"$VIGIL" --quiet db build --cache-dir "$C/cache" --sources alpine,osv:Go \
			--mirror alpine=/work/shared/data/feeds/alpine-secdb --mirror osv="$C/osv"
	fi
	echo
	echo "## Cold vulnerability scan: Alpine + one Go binary ($RUNS runs, median; load $(cut -d' ' -f1-3 /proc/loadavg))"
	echo
	echo "| tool | median wall (s) | peak RSS (MB) |"
	echo "|---|---:|---:|"
	for v in "$VIGIL" ${VIGIL_BASE:+"$VIGIL_BASE"}; do
		cmd="'$v' image --input '$C/alpine-go.tar' --cache-dir '$C/cache' --offline --quiet --format json --output /dev/null --cache-backend memory"
		/usr/bin/time -f '%M' -o "$C/rss" bash -c "$cmd"
		ts=()
		for _ in $(seq "$RUNS"); do
			s=$(date +%s.%N); bash -c "$cmd"; e=$(date +%s.%N)
			ts+=("$(awk -v s="$s" -v e="$e" 'BEGIN{print e - s}')")
		done
		printf '| %s | %.3f | %d |\n' "$v" "$(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "$(( $(tail -1 "$C/rss") / 1024 ))"
	done
fi

# ---- full vulnerability scan (VULN=1) -----------------------------------

# One synthetic advisory set (bench/mkfeeds) over the Debian image's source
# packages, written as the tracker's JSON for vigil and as a vuln-list tree
# that trivy-db turns into Trivy's database. Both tools then scan offline.
# "warm" = database present and each tool's layer cache filled by an
# earlier run; "cold" = database present, layer cache emptied before each
# run.
TRIVYDB=${TRIVYDB-$( [ -x /work/peers/trivy-db ] && echo /work/peers/trivy-db || true )}
if [ "${VULN:-0}" = 1 ]; then
	if [ -z "${IMG[debian]:-}" ] || [ -z "$TRIVY" ] || [ -z "$TRIVYDB" ] || [ ! -x "$TRIVYDB" ]; then
		log "VULN=1 needs the debian image, TRIVY and TRIVYDB; skipped"
	else
		V=$WORK/vuln
		FEEDS=$V/feeds VCACHE=$V/vigil-cache TCACHE=$V/trivy-cache
		rm -rf "$V" && mkdir -p "$V"
		log "generating ${CVES:-2000} issues over the debian image's source packages"
		"$BIN/mkfeeds" -image "${IMG[debian]}" -o "$FEEDS" -n "${CVES:-2000}" 2>&1 | sed 's/^/   /' >&2
		log "building Trivy's database with $TRIVYDB"
		"$TRIVYDB" build --only-update debian --cache-dir "$FEEDS/vuln-list" --output-dir "$TCACHE/db" >"$V/trivy-db.log" 2>&1 ||
			{ log "trivy-db failed; see $V/trivy-db.log"; exit 1; }
		log "building vigil's database"
		"$VIGIL" --cache-dir "$VCACHE" --quiet db build --sources debian --mirror "debian=$FEEDS/debian" >"$V/vigil-db.log" 2>&1 ||
			{ log "vigil db build failed; see $V/vigil-db.log"; exit 1; }

		img=${IMG[debian]}
		vcmd() { echo "'$VIGIL' --cache-dir '$VCACHE' --quiet image --input '$img' --offline --format $1 --output $2"; }
		tcmd() { echo "'$TRIVY' image --input '$img' --cache-dir '$TCACHE' --skip-db-update --skip-java-db-update --offline-scan --skip-version-check --disable-telemetry --quiet --scanners ${3:-vuln} --format $1 --output $2"; }

		# Fill both layer caches and keep the reports compared below.
		bash -c "$(vcmd json "$V/vigil.json")" || { log "vigil scan failed"; exit 1; }
		bash -c "$(tcmd json "$V/trivy.json")" || { log "trivy scan failed"; exit 1; }
		bash -c "$(tcmd json /dev/null vuln,secret)"

		VTABLE=$V/table.md
		echo "| run | vigil (s) | Trivy (s) | vigil/Trivy | vigil RSS (MB) | Trivy RSS (MB) |" >"$VTABLE"
		echo "|---|---:|---:|---:|---:|---:|" >>"$VTABLE"
		# vrow label vigil-cmd trivy-cmd [prepare-vigil prepare-trivy]
		vrow() {
			local label=$1 vc=$2 tc=$3 vp=${4:-true} tp=${5:-true} tv tt rv rt
			log "  $label"
			tv=$(time_cmd "$vc" "$vp") tt=$(time_cmd "$tc" "$tp")
			rv=$(rss_cmd "$vc" "$vp") rt=$(rss_cmd "$tc" "$tp")
			printf '| %s | %.2f | %.2f | %.2f | %s | %s |\n' "$label" "$tv" "$tt" \
				"$(awk -v a="$tv" -v b="$tt" 'BEGIN{print a/b}')" "$rv" "$rt" >>"$VTABLE"
		}
		# time_cmd cmd prepare: median wall seconds of RUNS runs.
		time_cmd() {
			if [ -n "$HYPERFINE" ]; then
				hyperfine --runs "$RUNS" --style none --prepare "$2" --export-json "$V/hf.json" "$1" >/dev/null 2>&1
				jq -r '.results[0].median' "$V/hf.json"
			else
				local ts=() s e
				for _ in $(seq "$RUNS"); do
					bash -c "$2"
					s=$(date +%s.%N); bash -c "$1" >/dev/null 2>&1; e=$(date +%s.%N)
					ts+=("$(awk -v s="$s" -v e="$e" 'BEGIN{print e - s}')")
				done
				printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
			fi
		}
		rss_cmd() {
			bash -c "$2"
			/usr/bin/time -f '%M' -o "$V/rss" bash -c "$1" >/dev/null 2>&1
			echo $(( $(tail -1 "$V/rss") / 1024 ))
		}
		log "debian: full vulnerability scans, $RUNS runs each"
		vrow "warm, json" "$(vcmd json /dev/null)" "$(tcmd json /dev/null)"
		vrow "warm, table" "$(vcmd table /dev/null)" "$(tcmd table /dev/null)"
		vrow "warm, json; Trivy's default scanners (vuln,secret)" "$(vcmd json /dev/null)" "$(tcmd json /dev/null vuln,secret)"
		vrow "cold layer cache, json" "$(vcmd json /dev/null)" "$(tcmd json /dev/null)" "rm -rf '$VCACHE/layers'" "rm -rf '$TCACHE/fanal'"

		echo
		echo "## Full vulnerability scan: debian ($RUNS runs, median; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
		echo
		echo "${CVES:-2000} synthetic issues (bench/mkfeeds) in both databases; see README.md."
		echo
		cat "$VTABLE"
		echo
		echo "### Findings"
		echo
		"$BIN/vulncompare" -vigil "$V/vigil.json" -trivy "$V/trivy.json" -truth "$FEEDS/truth.tsv"
	fi
fi
