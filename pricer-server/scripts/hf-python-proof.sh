#!/usr/bin/env bash
# Python's Hugging Face clients (huggingface_hub, transformers, PEFT) against `pricer server`'s hub: starts a server
# over a copy of HUB_STORE (a Pricer hub folder holding BASE_REPO and a trained ADAPTER_REPO with step-N tags, as
# `pricer demo` leaves in $PRICER_HOME/hub), makes a token, and runs hf_python_proof.py against it. Needs a Python
# with torch, transformers and peft (the lent GPU machine has them; PyPI is not reachable here) and curl.
# JAVA (default: java) and PRICER_CP (default: the fat jar) say how to run Pricer.
#   bash pricer-server/scripts/hf-python-proof.sh HUB_STORE [BASE_REPO] [ADAPTER_REPO]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
store=$1; base=${2:-demo/tiny-llama-base}; adapter=${3:-demo/demo-lora}
java=${JAVA:-java}; cp=${PRICER_CP:-pricer-cli/target/pricer.jar}
export PRICER="$java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp $cp dev.pricer.cli.PricerCommand"
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server"; rm -rf "$work"' EXIT
mkdir -p "$work/home"
cp -r "$store" "$work/home/hub"
port=${PORT:-5077}
token=$($PRICER token create --home "$work/home" --user py --json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
$PRICER server --home "$work/home" --port "$port" --auth > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/api/models/$base" > /dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$port/api/models/$base" > /dev/null || { echo "the server did not answer:"; cat "$work/server.log"; exit 1; }
python3 -c 'import huggingface_hub, transformers, peft, torch; print("huggingface_hub", huggingface_hub.__version__, "transformers", transformers.__version__, "peft", peft.__version__, "torch", torch.__version__)'
# huggingface_hub 1.x sends every large file through Xet storage whenever hf_xet is installed; this hub keeps them in
# Git LFS, which the client uses once Xet is switched off.
HF_ENDPOINT=http://127.0.0.1:$port HF_TOKEN=$token HF_HOME=$work/hf HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_XET=1 \
  python3 pricer-server/scripts/hf_python_proof.py "$work" "$base" "$adapter"
