#!/usr/bin/env bash
# Tokens/second of one LoRA training step (forward + backward) on the CPU, issue 2's model: Pricer's engine
# next to the same step in PyTorch (bench/peers/torch_lora_step.py), same thread count, one run.
#   bench/lora_step.sh [THREADS] [STEPS]      (defaults: all cores, 5)
# The PyTorch peer runs twice: logits at the label positions only (the same work as Pricer) and full logits
# over the sequence, as stock transformers' LlamaForCausalLM computes them in training.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
steps=${2:-5}
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
model_dir=${PRICER_BENCH_MODEL:-${TMPDIR:-/tmp}/pricer-bench-lora-model}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, threads=$threads, steps=$steps, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}"
ours=$("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g \
  -Dpricer.threads="$threads" -cp "$jar" dev.pricer.bench.LoraStepBench "$model_dir" "$steps" 2>/dev/null)
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
theirs=$("$torch_python" bench/peers/torch_lora_step.py --threads "$threads" --steps "$steps")
theirs_full=$("$torch_python" bench/peers/torch_lora_step.py --threads "$threads" --steps "$steps" --full-logits)
printf '%s\n' "$ours" "$theirs" "$theirs_full" | grep '^#'
printf '%-34s %10s %10s %10s %8s\n' "" "best s" "median s" "tokens/s" "loss"
row() { read -r _ best median tps loss <<<"$(grep '^step' <<<"$2")"; printf '%-34s %10s %10s %10s %8s\n' "$1" "$best" "$median" "$tps" "$loss"; }
row "pricer" "$ours"
row "pytorch, logits at labels" "$theirs"
row "pytorch, full logits (HF default)" "$theirs_full"
tps() { grep '^step' <<<"$1" | awk '{print $4}'; }
awk -v a="$(tps "$ours")" -v b="$(tps "$theirs")" -v c="$(tps "$theirs_full")" \
  'BEGIN { printf "ratio pricer/pytorch: %.2f (logits at labels), %.2f (full logits)\n", a / b, a / c }'
