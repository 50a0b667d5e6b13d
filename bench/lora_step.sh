#!/usr/bin/env bash
# Tokens/second of one LoRA training step (forward + backward) on the CPU, issue 2's model: Pricer's engine
# next to the same step in PyTorch (bench/peers/torch_lora_step.py), same thread count, one run.
#   bench/lora_step.sh [THREADS] [STEPS] [ROUNDS]      (defaults: all cores, 4, 2)
# Ours and the peer alternate ROUNDS times and each keeps its best step, so that other load on a shared machine,
# which only ever adds time, hurts both alike. The peer computes logits at the label positions only, the same
# work as Pricer; with PEER_FULL_LOGITS=1 it also runs once with logits over the whole sequence and vocabulary,
# as stock transformers' LlamaForCausalLM computes them in training.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
steps=${2:-4}
rounds=${3:-2}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
jar=pricer-bench/target/pricer-bench.jar
if [[ ! -f $jar || -n $(find pricer-core/src pricer-bench/src -newer "$jar" -print -quit) ]]; then
  ./mvnw -B -q -pl pricer-bench -am package -DskipTests >&2
fi
torch_python=${TORCH_PYTHON:-/usr/bin/python3}   # Debian's python3-torch (apt-get install python3-torch libopenblas0-pthread)
# The peer gets OpenBLAS's AVX-512 "SkylakeX" kernels wherever the CPU has AVX-512 (this machine's environment
# pins OPENBLAS_CORETYPE=Haswell, AVX2 only); PEER_OPENBLAS_CORETYPE chooses another.
if [[ -n ${PEER_OPENBLAS_CORETYPE:-} ]]; then export OPENBLAS_CORETYPE=$PEER_OPENBLAS_CORETYPE
elif grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
model_dir=${PRICER_BENCH_MODEL:-${TMPDIR:-/tmp}/pricer-bench-lora-model}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, threads=$threads, steps=$steps, rounds=$rounds, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}"
for round in $(seq "$rounds"); do
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g \
    -Dpricer.threads="$threads" -cp "$jar" dev.pricer.bench.LoraStepBench "$model_dir" "$steps" 2>/dev/null >>"$dir/ours"
  "$torch_python" bench/peers/torch_lora_step.py --threads "$threads" --steps "$steps" >>"$dir/theirs"
done
if [[ ${PEER_FULL_LOGITS:-0} == 1 ]]; then
  "$torch_python" bench/peers/torch_lora_step.py --threads "$threads" --steps "$steps" --full-logits >"$dir/full"
fi
grep -h -m1 '^#' "$dir"/ours "$dir"/theirs
[[ -f $dir/full ]] && grep -h -m1 '^#' "$dir/full"
# Lines: step best_seconds median_seconds tokens_per_second(best) loss; keep each side's best round.
best() { grep '^step' "$1" | sort -k2,2g | head -1; }
printf '%-34s %10s %10s %10s %8s\n' "" "best s" "median s" "tokens/s" "loss"
row() { read -r _ b m t l <<<"$2"; printf '%-34s %10s %10s %10s %8s\n' "$1" "$b" "$m" "$t" "$l"; }
ours=$(best "$dir/ours") theirs=$(best "$dir/theirs")
row "pricer" "$ours"
row "pytorch, logits at labels" "$theirs"
[[ -f $dir/full ]] && row "pytorch, full logits (HF default)" "$(best "$dir/full")"
awk -v a="$(awk '{print $4}' <<<"$ours")" -v b="$(awk '{print $4}' <<<"$theirs")" \
  'BEGIN { printf "ratio pricer/pytorch (tokens/s): %.2f\n", a / b }'
