#!/usr/bin/env bash
# LoRA training throughput, peer and ours back to back on the same GPU, for each "SHAPE:BATCH" argument
# (e.g. llama-1b:16 llama-8b:4). Sequence length 182, as the course's data. Runs on the GPU machine from
# what stage-device.sh packed into .device/ (or $DEVICE_DIR); results go to $OUT/bench.jsonl.
# VARIANTS: our runs per shape as '|'-separated option sets of LoraThroughputBenchmark (default: one plain run),
# e.g. VARIANTS='|--quantize=nf4 --gradient-checkpointing=on,off' for the bf16 base against QLoRA; PEER=0 skips the peer.
# STEPS: our timed steps per run (default 10); more steps, less noise in a ratio of runs within one call.
set -uo pipefail
source "${DEVICE_DIR:-.device}/device-env.sh"
out=${OUT:-bench-out}; mkdir -p "$out"
export PYTHONUNBUFFERED=1
models=/dev/shm/pricer-bench; avail=$(df -B1 --output=avail /dev/shm 2>/dev/null | tail -1)
[ "${avail:-0}" -gt 40000000000 ] || models=$PWD/bench-models
IFS='|' read -ra variants <<< "${VARIANTS:-}"
[ ${#variants[@]} -gt 0 ] || variants=("")
for arg in "$@"; do
  shape=${arg%%:*}; batch=${arg##*:}
  [ "${PEER:-1}" = 0 ] || python3 $dev/hf_lora_throughput.py "$shape" "$batch" 182 10 2>>"$out/peer.err" | tee -a "$out/bench.jsonl"
  for v in "${variants[@]}"; do
    ours() {
      # shellcheck disable=SC2086 # each variant is a list of options
      "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx24g -cp "$cp" \
        dev.pricer.cuda.bench.LoraThroughputBenchmark "$shape" "$batch" 182 "${STEPS:-10}" "$models" $v 2>>"$out/ours.err" | tee -a "$out/bench.jsonl"
    }
    # If ours fails, once more with the flash attention kernels (PRICER_CUDA_ATTENTION=flash), so a run still measures.
    ours || { echo "ours failed on $arg $v; again with PRICER_CUDA_ATTENTION=flash" | tee -a "$out/ours.err"; PRICER_CUDA_ATTENTION=flash ours; }
  done
done
