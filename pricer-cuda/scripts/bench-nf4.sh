#!/usr/bin/env bash
# The NF4 dequantization kernel on the GPU machine, from what stage-device.sh packed into .device/ (or $DEVICE_DIR):
# alone on the Llama-3.1-8B shapes against a device-to-device copy (Nf4DequantBenchmark), then one decoder layer's
# products in NF4 against bf16 (Nf4ProductBenchmark). JSON lines go to $OUT/nf4.jsonl. NCU=1 first profiles the kernel
# once on the 14336x4096 weight with Nsight Compute (DRAM and L2 throughput, occupancy, warp stalls, memory tables;
# base clocks) into $OUT/nf4-ncu.csv.
set -uo pipefail
source "${DEVICE_DIR:-.device}/device-env.sh"
out=${OUT:-bench-out}; mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$out/nf4.jsonl"
java() { "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx24g -cp "$cp" "$@"; }
if [ "${NCU:-0}" = 1 ]; then
  timeout 300 /usr/local/cuda/bin/ncu --csv --page details -k regex:nf4_ --section SpeedOfLight --section Occupancy \
    --section WarpStateStats --section MemoryWorkloadAnalysis_Tables --log-file "$out/nf4-ncu.csv" \
    "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx24g -cp "$cp" dev.pricer.cuda.Nf4DequantBenchmark 1 --shape=14336x4096 --once > "$out/nf4-ncu.out" 2>&1
  echo "ncu rc=$?" | tee -a "$out/nf4.err"
fi
for main in "dev.pricer.cuda.Nf4DequantBenchmark ${LAUNCHES:-200}" "dev.pricer.cuda.Nf4ProductBenchmark 728 ${ITERATIONS:-20}"; do
  # shellcheck disable=SC2086 # the class and its arguments
  java $main 2>>"$out/nf4.err" | tee -a "$out/nf4.jsonl"
done
