#!/usr/bin/env bash
# Packs what the lent GPU machine needs to run this folder's benchmarks there, for its 16 cores and the Python
# transformers the peer needs (this machine has 2 cores and no transformers), in two git-ignored folders, since the
# device tool carries at most 64 MiB with the tracked tree (about 20): .device-jre, a JRE (the modules of
# ../shared/tools/device-jre.sh's, and Flight Recorder; 30 MB), and .device-data, the fat jar with only the x86-64
# Linux natives (and none of xgboost's, which curation does not load), stored and then xz-compressed (36 MB), with
# TokenizerThreads compiled and run.sh.
# Build first: ./mvnw -B -q install -DskipTests. Then two calls on the GPU machine, from the checkout root, the
# second while the first's machine is still held (ignored folders there survive between calls):
#   carry .device-jre:  bash .device-jre/unpack.sh
#   carry .device-data: [JAVA_OPTS=-XX:StartFlightRecording=filename=$OUT/curate.jfr,settings=profile] bash .device-data/run.sh LINES THREADS [TEXTS]
# The second unpacks the jar once, runs bench/data/run.sh LINES THREADS, then TokenizerThreads on TEXTS of its
# catalog's lines (default 20000) at 1, 4, 8 and THREADS threads.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
top=$PWD
dir=$top/.device-data
jre_dir=$top/.device-jre
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
jar=$top/pricer-cli/target/pricer.jar
[ -f "$jar" ] || { echo "no $jar: build first with ./mvnw -B -q install -DskipTests" >&2; exit 1; }
mkdir -p "$dir/classes" "$jre_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$jre_dir/jre.tgz" ]; then
  # The modules of ../shared/tools/device-jre.sh's runtime, Flight Recorder's (for JAVA_OPTS=-XX:StartFlightRecording) and
  # the zip file system's, through which Jetty serves the dashboard's files from the jar (pricer server).
  "$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.sql,java.logging,java.management,java.naming,java.net.http,jdk.httpserver,jdk.unsupported,jdk.crypto.ec,java.xml,jdk.jfr,jdk.zipfs \
    --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$tmp/jre"
  tar czf "$jre_dir/jre.tgz" -C "$tmp" jre
  rm -rf "$tmp/jre"
fi
rm -f "$dir/jre.tgz"
cat > "$jre_dir/unpack.sh" <<'EOF'
#!/usr/bin/env bash
# Written by bench/data/stage-device.sh: unpacks the JRE where .device-data/run.sh looks for it.
set -euo pipefail
mkdir -p .device-unpacked
tar xzf "$(dirname "${BASH_SOURCE[0]}")/jre.tgz" -C .device-unpacked
.device-unpacked/jre/bin/java -version
EOF
mkdir "$tmp/jar"
(cd "$tmp/jar" && unzip -q "$jar"
  rm -f libduckdb_java.so_macos_* libduckdb_java.so_windows_* libduckdb_java.so_linux_arm64
  rm -rf lib/linux lib/macos lib/windows
  find native/lib -mindepth 1 -maxdepth 1 -type d ! -name linux-x86_64 -exec rm -rf {} +
  find org/sqlite/native -mindepth 1 -maxdepth 1 -type d ! -name Linux -exec rm -rf {} +
  find org/sqlite/native/Linux -mindepth 1 -maxdepth 1 -type d ! -name x86_64 -exec rm -rf {} +
  find com/sun/jna -mindepth 1 -maxdepth 1 -type d -name '*-*' ! -name linux-x86-64 -exec rm -rf {} +
  # Stored, so that xz sees the bytes rather than deflate's output: about 36 MB against 72 as a deflated jar.
  zip -q -0 -r -X "$tmp/pricer.jar" .)
xz -6 -T0 -c "$tmp/pricer.jar" > "$dir/pricer.jar.xz"
"$JAVA_HOME/bin/javac" -cp "$jar" -d "$dir/classes" bench/data/TokenizerThreads.java
cat > "$dir/run.sh" <<'EOF'
#!/usr/bin/env bash
# Written by bench/data/stage-device.sh: unpacks the JRE and the jar once, then runs the data benchmarks.
set -euo pipefail
dev=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lines=${1:-1000000}; threads=${2:-16}; texts=${3:-20000}
j=$PWD/.device-unpacked
[ -x "$j/jre/bin/java" ] || { echo "no JRE in $j: run .device-jre/unpack.sh first, on the same machine" >&2; exit 1; }
xz -dc "$dev/pricer.jar.xz" > "$j/pricer.jar"
export JAVA=$j/jre/bin/java PRICER_CP=$j/pricer.jar RUST_FLAVOR=cpu
bash bench/data/run.sh "$lines" "$threads"
work=${WORK:-/tmp/pricer-curate-bench}
"$JAVA" --enable-native-access=ALL-UNNAMED -cp "$PRICER_CP:$dev/classes" TokenizerThreads \
  "$work/tokenizer.json" "$work/catalog.jsonl" "$texts" 2 1 4 8 "$threads"
EOF
du -sh "$jre_dir" "$dir"
