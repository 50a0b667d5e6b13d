#!/usr/bin/env bash
# NF4 matmul (Nf4Matmul) next to the f32 matmul (CpuMatmul) at Llama 3.2 1B projection shapes, in one JVM.
# Usage: bench/nf4-matmul.sh [ROWS=1,256] [REPEATS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -pl pricer-core -am test-compile -DskipTests
# -Xbatch: compile in the foreground, so that on a loaded machine the warm-up really ends with compiled code.
exec "${JAVA_HOME:+$JAVA_HOME/bin/}java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -Xbatch \
  -cp pricer-core/target/classes:pricer-core/target/test-classes \
  dev.pricer.core.backend.cpu.Nf4MatmulBench "${1:-1,256}" "${2:-5}"
