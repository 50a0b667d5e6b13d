#!/usr/bin/env bash
# LoRA training throughput, peer and ours back to back on the same GPU, for each "SHAPE:BATCH" argument
# (e.g. llama-1b:16 llama-8b:4). Sequence length 182, as the course's data. Runs on the GPU machine from
# what stage-device.sh packed into .device/; results go to $OUT/bench.jsonl.
set -uo pipefail
out=${OUT:-bench-out}; mkdir -p "$out"
[ -x j/jre/bin/java ] || { mkdir -p j && tar xzf .device/jre.tgz -C j; }
JAVA=$PWD/j/jre/bin/java
cp=".device/cuda/classes:.device/cuda/test-classes:.device/cuda/core-classes:$(ls .device/lib/*.jar | tr '\n' ':')"
export PRICER_CUDA_CACHE=$PWD/.kernel-cache PYTHONUNBUFFERED=1
models=/dev/shm/pricer-bench; avail=$(df -B1 --output=avail /dev/shm 2>/dev/null | tail -1)
[ "${avail:-0}" -gt 40000000000 ] || models=$PWD/bench-models
for arg in "$@"; do
  shape=${arg%%:*}; batch=${arg##*:}
  python3 .device/hf_lora_throughput.py "$shape" "$batch" 182 10 2>>"$out/peer.err" | tee -a "$out/bench.jsonl"
  ours() {
    "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx24g -cp "$cp" \
      dev.pricer.cuda.bench.LoraThroughputBenchmark "$shape" "$batch" 182 10 "$models" 2>>"$out/ours.err" | tee -a "$out/bench.jsonl"
  }
  # If ours fails, once more with the flash attention kernels (PRICER_CUDA_ATTENTION=flash), so a run still measures.
  ours || { echo "ours failed on $arg; again with PRICER_CUDA_ATTENTION=flash" | tee -a "$out/ours.err"; PRICER_CUDA_ATTENTION=flash ours; }
done
