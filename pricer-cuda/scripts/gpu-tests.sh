#!/usr/bin/env bash
# Runs pricer-cuda's tests and the trainer's fixture run on the GPU (pricer-train's CudaFixtureRunTest) on a GPU
# machine that has no Java or Maven, from what stage-device.sh packed into .device/ (or $DEVICE_DIR): a small JRE,
# the modules' classes and test classes, their dependencies, and the JUnit console launcher. Logs go to $OUT
# (or ./gpu-test-logs).
set -uo pipefail
DEVICE_ENV_TRAIN=1 source "${DEVICE_DIR:-.device}/device-env.sh"
out=${OUT:-gpu-test-logs}; mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
"$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g \
  -jar $dev/junit.jar execute --class-path "$cp" --select-package "${1:-dev.pricer.cuda}" --select-class dev.pricer.train.loop.CudaFixtureRunTest \
  --details=tree --disable-banner 2>&1 | tee "$out/tests.log"
rc=${PIPESTATUS[0]}
ls -la .kernel-cache | tee -a "$out/tests.log"
exit $rc
