#!/usr/bin/env bash
# Packs what the GPU machine needs into DEST/.device (DEST: the checkout the device tool copies, default
# /work/main): a JRE (../shared/tools/device-jre.sh), pricer-cuda's classes and test classes, their runtime
# dependencies (pricer-core from this checkout, not the shared local repository), the JUnit console launcher
# and the scripts. Build first: ./mvnw -pl pricer-core,pricer-cuda install.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
dest=${DEST:-/work/main}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mkdir -p "$dest/.device"
[ -f "$dest/.device/jre.tgz" ] || (cd "$dest" && /work/shared/tools/device-jre.sh)
rm -rf "$dest/.device/cuda" "$dest/.device/lib"
mkdir -p "$dest/.device/cuda" "$dest/.device/lib"
cp -r "$here/pricer-cuda/target/classes" "$here/pricer-cuda/target/test-classes" "$dest/.device/cuda/"
cp -r "$here/pricer-core/target/classes" "$dest/.device/cuda/core-classes"
(cd "$here" && ./mvnw -B -q -pl pricer-cuda dependency:copy-dependencies -DincludeScope=test \
  -DexcludeGroupIds=dev.pricer,org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian,ai.djl,ai.djl.huggingface,net.java.dev.jna \
  -DoutputDirectory="$dest/.device/lib")
cp ~/.m2/repository/org/junit/platform/junit-platform-console-standalone/6.1.3/junit-platform-console-standalone-6.1.3.jar "$dest/.device/junit.jar"
cp "$here"/pricer-cuda/scripts/*.sh /work/shared/peers/hf_lora_throughput.py "$dest/.device/"
du -sh "$dest/.device"; ls -la "$dest/.device/lib"
