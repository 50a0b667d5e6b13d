#!/usr/bin/env bash
# The tracking benchmarks (BENCHMARKS.md, "Tracking"): ingest into the local store, and downsampling.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -q -pl pricer-track -am test-compile
./mvnw -B -q -pl pricer-track dependency:build-classpath -Dmdep.outputFile=target/track-bench.classpath >/dev/null
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx4g \
  -cp "pricer-track/target/test-classes:pricer-track/target/classes:$(cat pricer-track/target/track-bench.classpath)" \
  dev.pricer.track.bench.TrackBenchmark
