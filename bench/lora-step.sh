#!/usr/bin/env bash
# Tokens/s of one LoRA training step on the CPU: Pricer next to plain PyTorch, same shape, same cores, one run.
#   bench/lora-step.sh [STEPS]       (default 5; best step of each is reported)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-5}
threads=$(nproc)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -q -pl pricer-core install -DskipTests >&2
cp=$(mktemp)
trap 'rm -f "$cp"' EXIT
./mvnw -B -q -pl pricer-core dependency:build-classpath -Dmdep.outputFile="$cp" >&2
python=${PYTHON:-/usr/bin/python3}
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $threads cores"
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -Xmx8g -cp "pricer-core/target/classes:$(cat "$cp")" \
  bench/TrainStepBench.java "$steps" 2>/dev/null
OMP_NUM_THREADS=$threads "$python" bench/peers/lora_step_torch.py "$steps" "$threads"
OMP_NUM_THREADS=$threads "$python" bench/peers/lora_step_torch.py "$steps" "$threads" --label-logits-only
