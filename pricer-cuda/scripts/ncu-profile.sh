#!/usr/bin/env bash
# Where a LoRA step's GPU time goes, kernel by kernel: Nsight Compute (ncu, which the GPU machine has; nsys it has
# not) times every kernel of LoraThroughputBenchmark with one metric (gpu__time_duration, so no replays) at base
# clocks (about 15% slower than the benchmark's own timing), and ncu_sum.py adds them up by kernel name, per step
# (the benchmark's 3 warm-up steps plus its timed steps). Usage, on the GPU machine in the checkout root:
#   bash .device/ncu-profile.sh NAME SHAPE BATCH 182 STEPS MODELS [OPTIONS]   e.g. b16 llama-8b 16 182 1 /dev/shm/pricer-bench
# writes $OUT/NAME.csv (every kernel) and $OUT/NAME.sum.txt. 8B batch 16 with 1 timed step takes about 3 minutes.
set -u
export OUT=${OUT:-out}; mkdir -p $OUT
source "${DEVICE_DIR:-.device}/device-env.sh"
run() { name=$1; shift
  start=$(date +%s)
  timeout ${T:-240} /usr/local/cuda/bin/ncu --csv --metrics gpu__time_duration.sum --print-units base --log-file $OUT/$name.csv \
    "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx24g -cp "$cp" \
    dev.pricer.cuda.bench.LoraThroughputBenchmark "$@" > $OUT/$name.out 2>&1
  echo "$name rc=$? $(( $(date +%s)-start ))s" | tee -a $OUT/times.txt
  python3 $dev/ncu_sum.py $OUT/$name.csv $(( 3 + $4 )) > $OUT/$name.sum.txt; head -45 $OUT/$name.sum.txt
}
run "$@"
