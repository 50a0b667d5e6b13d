#!/usr/bin/env bash
# Packs what the GPU machine needs into DEST/DEVICE_DIR (DEST: the checkout the device tool copies, default
# /work/main; DEVICE_DIR: default .device, another name keeps several stagings apart): a JRE
# (../shared/tools/device-jre.sh), pricer-cuda's and pricer-train's classes and test classes (the trainer's fixture
# run on the GPU lives in pricer-train), their runtime dependencies (pricer-core from this checkout, not the shared
# local repository), the JUnit console launcher and the scripts.
# Build first: ./mvnw -pl pricer-core,pricer-cuda,pricer-train -am install -DskipTests.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
dest=${DEST:-/work/main}
dir=${DEVICE_DIR:-.device}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mkdir -p "$dest/$dir"
[ -f "$dest/$dir/jre.tgz" ] || [ "$dir" != .device ] || (cd "$dest" && /work/shared/tools/device-jre.sh)
[ -f "$dest/$dir/jre.tgz" ] || { echo "no $dest/$dir/jre.tgz: make one with /work/shared/tools/device-jre.sh and move it there" >&2; exit 1; }
rm -rf "$dest/$dir/cuda" "$dest/$dir/train" "$dest/$dir/lib"
mkdir -p "$dest/$dir/cuda" "$dest/$dir/train" "$dest/$dir/lib"
cp -r "$here/pricer-cuda/target/classes" "$here/pricer-cuda/target/test-classes" "$dest/$dir/cuda/"
cp -r "$here/pricer-core/target/classes" "$dest/$dir/cuda/core-classes"
cp -r "$here/pricer-train/target/classes" "$here/pricer-train/target/test-classes" "$dest/$dir/train/"
(cd "$here" && ./mvnw -B -q -pl pricer-cuda,pricer-train dependency:copy-dependencies -DincludeScope=test \
  -DexcludeGroupIds=dev.pricer,org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian,ai.djl,ai.djl.huggingface,net.java.dev.jna,org.duckdb \
  -DoutputDirectory="$dest/$dir/lib")
cp ~/.m2/repository/org/junit/platform/junit-platform-console-standalone/6.1.3/junit-platform-console-standalone-6.1.3.jar "$dest/$dir/junit.jar"
cp "$here"/pricer-cuda/scripts/*.sh "$here"/pricer-cuda/scripts/*.py /work/shared/peers/hf_lora_throughput.py "$dest/$dir/"
du -sh "$dest/$dir"; ls -la "$dest/$dir/lib"
