# Sourced by the GPU machine's scripts: the folder stage-device.sh packed (dev, from DEVICE_DIR, default .device),
# its JRE unpacked once into ./j (JAVA), the class path of pricer-cuda's classes and test classes, pricer-core's
# classes and their dependencies (cp; pricer-train's too with DEVICE_ENV_TRAIN=1), and the kernel cache.
dev=${DEVICE_DIR:-.device}
[ -x j/jre/bin/java ] || { mkdir -p j && tar xzf "$dev/jre.tgz" -C j; }
JAVA=$PWD/j/jre/bin/java
cp="$dev/cuda/classes:$dev/cuda/test-classes:$dev/cuda/core-classes:"
[ "${DEVICE_ENV_TRAIN:-0}" = 1 ] && cp="$cp$dev/train/classes:$dev/train/test-classes:"
cp="$cp$(ls "$dev"/lib/*.jar 2>/dev/null | tr '\n' ':')"
export PRICER_CUDA_CACHE=$PWD/.kernel-cache
