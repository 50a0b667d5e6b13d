#!/usr/bin/env bash
# The trainer's per-step overhead outside forward+backward, at the engine benchmark's shape, on the CPU backend.
#   bench/trainer-overhead.sh [STEPS]       (default 5, after 2 warm-up steps)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-5}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -q -pl pricer-train -am package -DskipTests >&2
cp=$(mktemp)
trap 'rm -f "$cp"' EXIT
./mvnw -B -q -pl pricer-train dependency:build-classpath -Dmdep.outputFile="$cp" >&2
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g \
  -cp "pricer-train/target/classes:pricer-core/target/classes:$(cat "$cp")" bench/TrainerOverheadBench.java "$steps" 2>/dev/null
