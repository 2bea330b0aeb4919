#!/usr/bin/env bash
# Start-up and idle benchmark of the real terminal binary (release build) in a real X window
# (Xvfb, software renderer), with the store of 1,000,000 products and 100,000 pending events that
# the scan benchmark uses (built and cached under target/bench-data when missing).
#
# - Cold start: from exec of `laituri run` to the X server mapping its window (MapNotify, seen by
#   `xev` on the root window), and to the "scan-ready" line of LAITURI_EXIT_WHEN_READY=1 (store
#   open, core and window built, before the event loop creates the X window). Each is run with the
#   binary and the store file in the page cache ("warm") and evicted from it first ("evicted",
#   posix_fadvise DONTNEED on those two files only; shared libraries and fonts stay cached).
# - Idle: the terminal runs for IDLE_SECONDS after its window is up (and 5 s to settle): CPU time
#   from /proc/PID/stat (utime + stime) over that span, and VmRSS / VmHWM / RssAnon / RssFile from
#   /proc/PID/status. The configured server does not answer (nothing listens on its port), so the
#   sync worker retries with back-off, as on a terminal out of Wi-Fi range.
#
# Usage: scripts/bench-start.sh            (RUNS=10 IDLE_SECONDS=30 by default)
# Needs: Xvfb, xev (x11-utils), python3. Prints figures; asserts no timings.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-10}
IDLE_SECONDS=${IDLE_SECONDS:-30}

for tool in Xvfb xev python3; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install xvfb x11-utils python3)" >&2; exit 1; }
done

cargo build --release --bin laituri >&2
store=$(cargo bench --bench scan_to_feedback -- --prepare-only | tail -n 1)
[ -f "$store" ] || { echo "no store at $store" >&2; exit 1; }
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/laituri"
data="$target_dir/bench-data/start"
mkdir -p "$data"
rm -f "$data"/laituri.sqlite3*
cp "$store" "$data/laituri.sqlite3"
sync "$data/laituri.sqlite3" # written back now, not during the runs; evictable
cat > "$data/laituri.toml" <<'EOF'
server_url = "http://127.0.0.1:9"
enrolment_code = "DEMO-ENROL"
device_name = "bench-start"
mute = true
EOF

display=""
for n in $(seq 200 299); do
    if [ ! -e "/tmp/.X11-unix/X$n" ]; then display=":$n"; break; fi
done
[ -n "$display" ] || { echo "no free X display" >&2; exit 1; }
Xvfb "$display" -noreset -screen 0 800x900x24 >/dev/null 2>&1 &
xvfb_pid=$!
xev_pid=""
app_pid=""
cleanup() {
    [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
    [ -n "$xev_pid" ] && kill "$xev_pid" 2>/dev/null || true
    kill "$xvfb_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 200); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.05; done
export DISPLAY="$display"

evict() {
    python3 - "$bin" "$data/laituri.sqlite3" <<'EOF'
import os, sys
for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
EOF
}

# Microseconds since the epoch, without forking (bash 5).
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# Starts the terminal and waits for its window to be mapped; leaves it running in $app_pid and
# prints the milliseconds from exec to MapNotify.
start_and_wait_for_map() {
    local fifo
    fifo=$(mktemp -u)
    mkfifo "$fifo"
    stdbuf -oL xev -root -event substructure >"$fifo" 2>/dev/null &
    xev_pid=$!
    exec 3<"$fifo"
    rm -f "$fifo"
    sleep 0.3 # xev has selected the root window's events
    local t0 t1 line
    t0=$(now_us)
    "$bin" --data-dir "$data" run >/dev/null 2>&1 &
    app_pid=$!
    while read -r line <&3; do
        if [[ $line == MapNotify* ]]; then t1=$(now_us); break; fi
    done
    kill "$xev_pid" 2>/dev/null || true
    wait "$xev_pid" 2>/dev/null || true
    xev_pid=""
    exec 3<&-
    echo $(((t1 - t0) / 1000))
}

stop_app() {
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
    app_pid=""
}

# Milliseconds from exec to the "scan-ready" line of LAITURI_EXIT_WHEN_READY=1.
scan_ready_ms() {
    local t0 t1 line
    t0=$(now_us)
    while read -r line; do
        if [[ $line == scan-ready* ]]; then t1=$(now_us); break; fi
    done < <(LAITURI_EXIT_WHEN_READY=1 "$bin" --data-dir "$data" run 2>/dev/null)
    echo $(((t1 - t0) / 1000))
}

stats() { # median and max of numbers on stdin
    sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "median %d ms, min %d ms, max %d ms (%d runs)", m, a[1], a[NR], NR}'
}

# One run of each first, not counted: it creates the sync worker's state and warms fontconfig.
start_and_wait_for_map >/dev/null; stop_app
scan_ready_ms >/dev/null

map_warm=() map_evicted=() ready_warm=() ready_evicted=()
for _ in $(seq "$RUNS"); do
    map_warm+=("$(start_and_wait_for_map)"); stop_app
    evict; map_evicted+=("$(start_and_wait_for_map)"); stop_app
    ready_warm+=("$(scan_ready_ms)")
    evict; ready_evicted+=("$(scan_ready_ms)")
done

echo "Start-up of the release binary under Xvfb, store: $(du -m "$data/laituri.sqlite3" | cut -f1) MB (1,000,000 products, 100,000 pending events)"
echo "exec to window mapped (MapNotify), warm:    $(printf '%s\n' "${map_warm[@]}" | stats)"
echo "exec to window mapped (MapNotify), evicted: $(printf '%s\n' "${map_evicted[@]}" | stats)"
echo "exec to \"scan-ready\" line, warm:          $(printf '%s\n' "${ready_warm[@]}" | stats)"
echo "exec to \"scan-ready\" line, evicted:       $(printf '%s\n' "${ready_evicted[@]}" | stats)"

# Idle.
start_and_wait_for_map >/dev/null
sleep 5
tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$app_pid/stat"; }
c0=$(cpu_ticks); t0=$(now_us)
sleep "$IDLE_SECONDS"
c1=$(cpu_ticks); t1=$(now_us)
field() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$app_pid/status"; }
awk -v c=$((c1 - c0)) -v tck="$tck" -v us=$((t1 - t0)) \
    'BEGIN {printf "idle CPU over %.0f s: %.2f %% of one core (%d ticks of 1/%d s)\n", us/1e6, 100*c/tck/(us/1e6), c, tck}'
echo "idle memory: VmRSS $(($(field VmRSS) / 1024)) MiB, VmHWM $(($(field VmHWM) / 1024)) MiB, RssAnon $(($(field RssAnon) / 1024)) MiB, RssFile $(($(field RssFile) / 1024)) MiB, threads $(field Threads)"
stop_app
