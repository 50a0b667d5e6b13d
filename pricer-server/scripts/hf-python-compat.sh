#!/usr/bin/env bash
# Checks Python's huggingface_hub and datasets against a Pricer server, where they are installed (the lent GPU
# machine; this one has no PyPI): a fresh home with a token, a dataset pushed by pricer data curate, the server on a
# free port, then hf_python_compat.py. Needs the JRE and jar that bench/data/stage-device.sh packs, unpacked into
# .device-unpacked (.device-jre/unpack.sh, then xz -dc .device-data/pricer.jar.xz > .device-unpacked/pricer.jar).
# Usage, from the checkout root: bash pricer-server/scripts/hf-python-compat.sh [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${1:-$(mktemp -d)}
java=.device-unpacked/jre/bin/java
pricer() { "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar .device-unpacked/pricer.jar "$@"; }
home=$work/home
token=$(pricer token create --home "$home" --name compat --user shop --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
pricer data generate -n 300 --seed 5 -o "$work/catalog.jsonl" > /dev/null
pricer data curate "$work/catalog.jsonl" -o "$work/curated" --no-token-limits --format parquet --train-size 60 --test-size 10 \
  --push-to-hub shop/prices --home "$home" > /dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pricer server --home "$home" --port "$port" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server' EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/api/models" > /dev/null && break; sleep 1; done
HF_ENDPOINT=http://127.0.0.1:$port HF_TOKEN=$token HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_TELEMETRY=1 \
  python3 "$here/hf_python_compat.py" "$work" shop/prices
