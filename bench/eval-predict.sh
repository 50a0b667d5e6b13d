#!/usr/bin/env bash
# Price predictions per second on the CPU, batched against one prompt at a time, in one run.
#   bench/eval-predict.sh [ITEMS] [BATCH]      (defaults 64, 16)
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-64}
batch=${2:-16}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -q -pl pricer-eval -am install -DskipTests >&2
cp=$(mktemp)
trap 'rm -f "$cp"' EXIT
./mvnw -B -q -pl pricer-eval dependency:build-classpath -Dmdep.outputFile="$cp" >&2
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -Xmx4g -cp "pricer-eval/target/classes:$(cat "$cp")" \
  bench/PredictBench.java "$items" "$batch" 2>/dev/null
