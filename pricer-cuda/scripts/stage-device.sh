#!/usr/bin/env bash
# Packs what the GPU machine needs into DEST/.device (DEST: the checkout the device tool copies, default
# /work/main): a JRE (../shared/tools/device-jre.sh), pricer-cuda's and pricer-train's classes and test classes
# (the trainer's fixture run on the GPU lives in pricer-train), their runtime dependencies (pricer-core from this
# checkout, not the shared local repository), the JUnit console launcher and the scripts.
# Build first: ./mvnw -pl pricer-core,pricer-cuda,pricer-train install -DskipTests.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
dest=${DEST:-/work/main}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mkdir -p "$dest/.device"
[ -f "$dest/.device/jre.tgz" ] || (cd "$dest" && /work/shared/tools/device-jre.sh)
rm -rf "$dest/.device/cuda" "$dest/.device/train" "$dest/.device/lib"
mkdir -p "$dest/.device/cuda" "$dest/.device/train" "$dest/.device/lib"
cp -r "$here/pricer-cuda/target/classes" "$here/pricer-cuda/target/test-classes" "$dest/.device/cuda/"
cp -r "$here/pricer-core/target/classes" "$dest/.device/cuda/core-classes"
cp -r "$here/pricer-train/target/classes" "$here/pricer-train/target/test-classes" "$dest/.device/train/"
(cd "$here" && ./mvnw -B -q -pl pricer-cuda,pricer-train dependency:copy-dependencies -DincludeScope=test \
  -DexcludeGroupIds=dev.pricer,org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian,ai.djl,ai.djl.huggingface,net.java.dev.jna \
  -DoutputDirectory="$dest/.device/lib")
cp ~/.m2/repository/org/junit/platform/junit-platform-console-standalone/6.1.3/junit-platform-console-standalone-6.1.3.jar "$dest/.device/junit.jar"
cp "$here"/pricer-cuda/scripts/*.sh /work/shared/peers/hf_lora_throughput.py "$dest/.device/"
du -sh "$dest/.device"; ls -la "$dest/.device/lib"
