// For timing (benchmarks, and GemmTuner choosing among cuBLASLt algorithms): holds the stream for ns nanoseconds of
// the GPU's global timer, so that the host can enqueue the launches to be timed behind it and the events around them
// measure the GPU's work, not the host's launch rate.
extern "C" __global__ void gpu_wait(unsigned long long ns) {
    unsigned long long start, now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do {
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    } while (now - start < ns);
}
