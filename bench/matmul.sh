#!/usr/bin/env bash
# CPU matmul GFLOP/s: Pricer's CpuMatmul next to OpenBLAS sgemm (numpy's bundled OpenBLAS), same shapes
# (bench/matmul-shapes.txt: Llama 3.2 1B projections over 728 tokens), same thread count, one run.
#   bench/matmul.sh [THREADS] [REPEATS] [ROUNDS]      (defaults: all cores, 5, 3)
# Ours and the peer alternate ROUNDS times; each shape keeps its best time over all rounds and repeats, so that
# other load on a shared machine, which only ever adds time, hurts both sides alike.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
repeats=${2:-5}
rounds=${3:-3}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
jar=pricer-bench/target/pricer-bench.jar
if [[ ! -f $jar || -n $(find pricer-core/src pricer-bench/src -newer "$jar" -print -quit) ]]; then
  ./mvnw -B -q -pl pricer-bench -am package -DskipTests >&2
fi
# The peer gets OpenBLAS's AVX-512 "SkylakeX" kernels wherever the CPU has AVX-512 (this machine's environment
# pins OPENBLAS_CORETYPE=Haswell, AVX2 only); PEER_OPENBLAS_CORETYPE chooses another.
if [[ -n ${PEER_OPENBLAS_CORETYPE:-} ]]; then export OPENBLAS_CORETYPE=$PEER_OPENBLAS_CORETYPE
elif grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi
python=${PYTHON:-python3}
shapes=bench/matmul-shapes.txt
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, threads=$threads, repeats=$repeats, rounds=$rounds, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}"
for round in $(seq "$rounds"); do
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -Dpricer.threads="$threads" -cp "$jar" \
    dev.pricer.bench.MatmulBench "$shapes" "$repeats" 2>/dev/null >"$dir/ours.$round"
  OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads "$python" bench/peers/numpy_matmul.py "$shapes" "$repeats" >"$dir/theirs.$round"
done
grep -h '^#' "$dir/ours.1" "$dir/theirs.1"

"$python" - "$dir" "$rounds" <<'PY'
import math, sys
def rows(path):
    return [l.split() for l in open(path) if l.strip() and not l.startswith("#")]
def best(side):
    """Per shape, the round with the shortest time."""
    runs = [rows(f"{sys.argv[1]}/{side}.{r}") for r in range(1, int(sys.argv[2]) + 1)]
    return [min(shape, key=lambda row: float(row[5])) for shape in zip(*runs)]
ours, theirs = best("ours"), best("theirs")
print(f"{'shape':<12} {'op':<4} {'m':>5} {'n':>5} {'k':>5} {'pricer GF/s':>12} {'OpenBLAS GF/s':>14} {'ratio':>6}")
ratios = []
for o, t in zip(ours, theirs):
    assert o[:5] == t[:5], f"shape mismatch {o[:5]} vs {t[:5]}"
    r = float(o[6]) / float(t[6])
    ratios.append(r)
    print(f"{o[0]:<12} {o[1]:<4} {o[2]:>5} {o[3]:>5} {o[4]:>5} {float(o[6]):>12.1f} {float(t[6]):>14.1f} {r:>6.2f}")
total_ours = sum(2.0 * int(o[2]) * int(o[3]) * int(o[4]) for o in ours) / sum(float(o[5]) for o in ours) / 1e9
total_theirs = sum(2.0 * int(t[2]) * int(t[3]) * int(t[4]) for t in theirs) / sum(float(t[5]) for t in theirs) / 1e9
print(f"{'all shapes':<36} {total_ours:>12.1f} {total_theirs:>14.1f} {total_ours / total_theirs:>6.2f}")
print(f"geometric mean of ratios: {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}, lowest: {min(ratios):.2f}")
PY
