#!/usr/bin/env bash
# Curation speed and memory, `pricer data curate` against the course's Python pipeline (course_peer.py),
# side by side on one machine, on the same synthetic catalog in raw Amazon layout.
#   bench/data/run.sh [LINES] [THREADS]
# JAVA (default: java on PATH) and PRICER_CP (default: the fat jar) say how to run Pricer.
set -euo pipefail
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

read -r ours_s ours_mb ours_rc < <(measure "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx1g \
  -cp "$cp" dev.pricer.cli.PricerCommand data curate "$work/catalog.jsonl" --tokenizer "$work/tokenizer.json" \
  -o "$work/ours" --threads "$threads" --json)
read -r peer_s peer_mb peer_rc < <(measure python3 bench/data/course_peer.py "$work/catalog.jsonl" "$work/tokenizer.json" "$work/peer" "$threads")
[ "$ours_rc" = 0 ] && [ "$peer_rc" = 0 ] || { echo "a run failed: ours $ours_rc, peer $peer_rc"; exit 1; }
python3 - "$lines" "$ours_s" "$ours_mb" "$peer_s" "$peer_mb" "$work" <<'PY'
import sys
lines, ours_s, ours_mb, peer_s, peer_mb, work = int(sys.argv[1]), *map(float, sys.argv[2:6]), sys.argv[6]
count = lambda p: sum(1 for _ in open(p))
print(f"pricer data curate: {ours_s:.1f} s, {lines / ours_s:,.0f} lines/s, peak RSS {ours_mb:.0f} MB, "
      f"train {count(work + '/ours/train.jsonl')}, test {count(work + '/ours/test.jsonl')}")
print(f"course pipeline:    {peer_s:.1f} s, {lines / peer_s:,.0f} lines/s, peak RSS {peer_mb:.0f} MB (largest process), "
      f"train {count(work + '/peer/train.jsonl')}, test {count(work + '/peer/test.jsonl')}")
print(f"speed ratio (ours/peer): {peer_s / ours_s:.2f}x")
PY
