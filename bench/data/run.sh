#!/usr/bin/env bash
# Curation speed and memory, `pricer data curate` against the course's Python pipeline (course_peer.py),
# side by side on one machine, on the same synthetic catalog in raw Amazon layout.
#   bench/data/run.sh [LINES] [THREADS]
# JAVA (default: java on PATH) and PRICER_CP (default: the fat jar) say how to run Pricer; JAVA_OPTS go to the timed
# curation's JVM (e.g. -XX:StartFlightRecording=filename=curate.jfr,settings=profile to see where its time goes).
set -euo pipefail
# DJL picks a CUDA build of the tokenizers library when it sees a GPU and downloads it; offline, ask for the CPU one.
export RUST_FLAVOR=${RUST_FLAVOR:-cpu}
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
lines=${1:-1000000}
threads=${2:-$(nproc)}
java=${JAVA:-java}
cp=${PRICER_CP:-pricer-cli/target/pricer.jar}
work=${WORK:-/tmp/pricer-curate-bench}
rm -rf "$work" && mkdir -p "$work"
gunzip -c pricer-data/src/test/resources/tokenizers/llama-3.1-tokenizer.json.gz > "$work/tokenizer.json"
pricer() { "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx1g -cp "$cp" dev.pricer.cli.PricerCommand "$@"; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
pricer data generate -n "$lines" --seed 1 -o "$work/catalog.jsonl" 2>/dev/null
echo "catalog: $lines lines, $(du -m "$work/catalog.jsonl" | cut -f1) MB"

# Peak resident memory of a command and its children, from the kernel's accounting.
measure() {
  python3 -c '
import resource, subprocess, sys, time
t = time.time()
code = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE).returncode
s = time.time() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{s:.2f} {peak:.0f} {code}")' "$@"
}

count() { wc -l < "$1" | xargs; }
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
read -r ours_s ours_mb ours_rc < <(measure "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx1g ${JAVA_OPTS:-} \
  -cp "$cp" dev.pricer.cli.PricerCommand data curate "$work/catalog.jsonl" --tokenizer "$work/tokenizer.json" \
  -o "$work/ours" --threads "$threads" --json)
[ "$ours_rc" = 0 ] || { echo "pricer data curate failed ($ours_rc)"; exit 1; }
echo "pricer data curate: $ours_s s, $(awk -v n="$lines" -v s="$ours_s" 'BEGIN {printf "%.0f", n / s}') lines/s," \
  "peak RSS $ours_mb MB, train $(count "$work/ours/train.jsonl"), test $(count "$work/ours/test.jsonl")"
read -r peer_s peer_mb peer_rc < <(measure python3 bench/data/course_peer.py "$work/catalog.jsonl" "$work/tokenizer.json" "$work/peer" "$threads")
[ "$peer_rc" = 0 ] || { echo "course pipeline failed ($peer_rc)"; exit 1; }
echo "course pipeline:    $peer_s s, $(awk -v n="$lines" -v s="$peer_s" 'BEGIN {printf "%.0f", n / s}') lines/s," \
  "peak RSS $peer_mb MB (largest process), train $(count "$work/peer/train.jsonl"), test $(count "$work/peer/test.jsonl")"
echo "speed ratio (ours/peer): $(awk -v a="$ours_s" -v b="$peer_s" 'BEGIN {printf "%.2f", b / a}')x"
