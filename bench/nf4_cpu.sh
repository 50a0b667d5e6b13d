#!/usr/bin/env bash
# QLoRA on the CPU: issue 2's model (LoraStepBench) with its decoder projections in float32 and in NF4, the LoRA
# training step (forward + backward) and the forward pass alone (inference), alternating in one run.
#   bench/nf4_cpu.sh [THREADS] [STEPS] [ROUNDS]      (defaults: all cores, 3, 2)
# Each side keeps its best step over the rounds, so other load on a shared machine, which only ever adds time,
# hurts both alike.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
steps=${2:-3}
rounds=${3:-2}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
jar=pricer-bench/target/pricer-bench.jar
if [[ ! -f $jar || -n $(find pricer-core/src pricer-bench/src -newer "$jar" -print -quit) ]]; then
  ./mvnw -B -q -pl pricer-core,pricer-bench package -DskipTests >&2
fi
model_dir=${PRICER_BENCH_MODEL:-${TMPDIR:-/tmp}/pricer-bench-lora-model}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, threads=$threads, steps=$steps, rounds=$rounds"
for round in $(seq "$rounds"); do
  for q in none nf4; do
    "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g \
      -Dpricer.threads="$threads" -cp "$jar" dev.pricer.bench.LoraStepBench "$model_dir" "$steps" "$q" 2>/dev/null >>"$dir/$q"
  done
done
# Lines: what best_seconds median_seconds tokens_per_second(best) loss; each side's best round.
best() { grep "^$2 " "$dir/$1" | sort -k2,2g | head -1; }
printf '%-28s %10s %10s %10s %8s\n' "" "best s" "median s" "tokens/s" "loss"
for what in step forward; do
  for q in none nf4; do
    read -r _ b m t l <<<"$(best $q $what)"
    printf '%-28s %10s %10s %10s %8s\n' "$what, base $q" "$b" "$m" "$t" "$l"
  done
  awk -v a="$(best nf4 $what | awk '{print $4}')" -v b="$(best none $what | awk '{print $4}')" \
    -v w="$what" 'BEGIN { printf "%s: nf4/f32 tokens/s %.2f\n", w, a / b }'
done
