#!/usr/bin/env bash
# Hub transfer benchmark: upload and download of a SIZE_MB file (default 1024) over loopback, server and client
# on a small heap (HEAP, default 64m), next to curl against nginx (PUT through WebDAV, GET of a static file) on the
# same machine in the same run; then CONCURRENT (default 100) parallel downloads of a 16 MB file, each checked.
# Falls back to python3 -m http.server for the static GET when nginx is not installed (apt-get install nginx).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
java="$JAVA_HOME/bin/java"
SIZE_MB=${SIZE_MB:-1024}
HEAP=${HEAP:-64m}
CONCURRENT=${CONCURRENT:-100}
work=$(mktemp -d /tmp/hub-bench.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "building..." >&2
./mvnw -q -B -DskipTests install >&2
./mvnw -q -B -pl pricer-server test-compile dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >&2
cp="pricer-server/target/test-classes:pricer-server/target/classes:$(cat "$work/cp.txt")"
pricer=("$java" -Xmx"$HEAP" -jar pricer-cli/target/pricer.jar)

mkdir -p "$work/up" "$work/www" "$work/many" "$work/tmp"
head -c "${SIZE_MB}M" /dev/urandom > "$work/up/model.bin"
head -c 16M /dev/urandom > "$work/many/small.bin"
ln "$work/up/model.bin" "$work/www/model.bin"
bytes=$((SIZE_MB * 1048576))
now() { date +%s.%N; }
rate() { awk -v b="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.0f", b / 1048576 / (e - s) }'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

port=$(free_port)
"$java" -Xmx"$HEAP" -cp "$cp" dev.pricer.server.hub.HubBenchServer "$work/store" "$port" > "$work/server.log" 2>&1 &
server=$!; pids+=("$server")
until grep -q "listening" "$work/server.log"; do sleep 0.2; done
# The server's anonymous memory (heap, stacks, buffers: not the page cache of the files it moves), sampled.
(while kill -0 "$server" 2>/dev/null; do awk '/RssAnon/ { print $2 }' "/proc/$server/status"; sleep 0.1; done > "$work/anon.txt") &
pids+=("$!")
hub="http://127.0.0.1:$port"

# Upload, ours end to end: the Java client hashes the file, asks preupload and the LFS batch API, PUTs, commits.
s=$(now); "${pricer[@]}" hub push --url "$hub" --token hf_bench bench/model "$work/up" -m "1 GB" > /dev/null; e=$(now)
push_rate=$(rate "$bytes" "$s" "$e")
# Upload, ours raw: curl PUTs the body to a signed LFS link (server-side streaming, hashing and storing only).
sha=$(sha256sum "$work/many/small.bin" | cut -d' ' -f1)
head -c "${SIZE_MB}M" /dev/urandom > "$work/up2.bin"
oid=$(sha256sum "$work/up2.bin" | cut -d' ' -f1)
href=$(curl -sf -H "Authorization: Bearer hf_bench" -H "Content-Type: application/vnd.git-lfs+json" \
  -d "{\"operation\":\"upload\",\"objects\":[{\"oid\":\"$oid\",\"size\":$bytes}]}" "$hub/bench/model.git/info/lfs/objects/batch" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["objects"][0]["actions"]["upload"]["href"])')
curl_put_ours=$(curl -sf -o /dev/null -w '%{speed_upload}' -T "$work/up2.bin" "$href" | awk '{ printf "%.0f", $1 / 1048576 }')
rm "$work/up2.bin"

# Download, ours: curl from resolve/, and the Java client (which checks the sha256) into a file.
curl_get_ours=$(curl -sf -o /dev/null -w '%{speed_download}' "$hub/bench/model/resolve/main/model.bin" | awk '{ printf "%.0f", $1 / 1048576 }')
s=$(now); "${pricer[@]}" hub download --url "$hub" bench/model model.bin -o "$work/down.bin" > /dev/null 2>&1; e=$(now)
download_rate=$(rate "$bytes" "$s" "$e")
cmp -s "$work/down.bin" "$work/up/model.bin" || { echo "downloaded bytes differ" >&2; exit 1; }
rm "$work/down.bin"
server_rss=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status")
server_anon=$(sort -n "$work/anon.txt" | tail -1 | awk '{ printf "%.0f", $1 / 1024 }')

# The peer: nginx on the same machine (static GET, WebDAV PUT), or python3 -m http.server (GET only).
peer_port=$(free_port)
if command -v nginx > /dev/null; then
  cat > "$work/nginx.conf" <<CONF
user root;
daemon off;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx.err;
events {}
http {
  access_log off;
  sendfile on;
  client_body_temp_path $work/tmp;
  server {
    listen 127.0.0.1:$peer_port;
    root $work/www;
    location / { dav_methods PUT; create_full_put_path on; client_max_body_size 0; }
  }
}
CONF
  nginx -c "$work/nginx.conf" -p "$work" &
  pids+=("$!"); peer="nginx $(nginx -v 2>&1 | sed 's|.*/||')"
else
  (cd "$work/www" && exec python3 -m http.server "$peer_port" --bind 127.0.0.1 > /dev/null 2>&1) &
  pids+=("$!"); peer="python3 -m http.server"
fi
until curl -s -o /dev/null "http://127.0.0.1:$peer_port/"; do sleep 0.2; done
curl_get_peer=$(curl -sf -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$peer_port/model.bin" | awk '{ printf "%.0f", $1 / 1048576 }')
# The same work as the hub clients do, with standard tools: download to disk and check the sha256; hash, then upload.
s=$(now); curl -sf "http://127.0.0.1:$peer_port/model.bin" | tee "$work/peer.bin" | sha256sum > /dev/null; e=$(now)
checked_get_peer=$(rate "$bytes" "$s" "$e")
rm "$work/peer.bin"
curl_put_peer=n/a
checked_put_peer=n/a
if [[ $peer == nginx* ]]; then
  curl_put_peer=$(curl -sf -o /dev/null -w '%{speed_upload}' -T "$work/up/model.bin" "http://127.0.0.1:$peer_port/put.bin" | awk '{ printf "%.0f", $1 / 1048576 }')
  s=$(now); sha256sum "$work/up/model.bin" > /dev/null; curl -sf -o /dev/null -T "$work/up/model.bin" "http://127.0.0.1:$peer_port/put2.bin"; e=$(now)
  checked_put_peer=$(rate "$bytes" "$s" "$e")
fi

# Concurrency: CONCURRENT parallel downloads of a 16 MB file, each checked against its sha256.
"${pricer[@]}" hub push --url "$hub" --token hf_bench bench/many "$work/many" -m "16 MB" > /dev/null
s=$(now)
seq "$CONCURRENT" | xargs -P "$CONCURRENT" -I{} sh -c "curl -sf '$hub/bench/many/resolve/main/small.bin' | sha256sum | grep -q '^$sha ' || echo fail {}" > "$work/failures"
e=$(now)
failures=$(wc -l < "$work/failures")
many_rate=$(rate $((CONCURRENT * 16777216)) "$s" "$e")

cat <<REPORT
date: $(date -u +%Y-%m-%d), machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), $(uname -r)
file: $SIZE_MB MiB random; server and client heap -Xmx$HEAP; peer: $peer
| transfer | ours MiB/s | peer MiB/s | ours / peer |
|---|---|---|---|
| download, curl GET | $curl_get_ours | $curl_get_peer | $(awk -v a="$curl_get_ours" -v b="$curl_get_peer" 'BEGIN { printf "%.2f", a / b }') |
| download to disk, sha256 checked: pricer hub download / curl, tee and sha256sum | $download_rate | $checked_get_peer | $(awk -v a="$download_rate" -v b="$checked_get_peer" 'BEGIN { printf "%.2f", a / b }') |
| upload, curl PUT (LFS link / WebDAV) | $curl_put_ours | $curl_put_peer | $(awk -v a="$curl_put_ours" -v b="$curl_put_peer" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }') |
| upload, hash first: pricer hub push (preupload, LFS, commit) / sha256sum then curl PUT | $push_rate | $checked_put_peer | $(awk -v a="$push_rate" -v b="$checked_put_peer" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }') |
server peak RSS: $server_rss MB, peak anonymous memory (sampled every 0.1 s): $server_anon MB (heap limit $HEAP)
$CONCURRENT concurrent downloads of 16 MiB: $failures failed, $many_rate MiB/s in total
REPORT
