"""The adapter that the 12-step run of make_hf_fixtures.py starts from, which that script does not save.

After torch.manual_seed(99) the script draws the first model's lora_B (0.05 * randn, 14 tensors), then builds
the run's model with get_peft_model, which draws, for each LoRA site in module order, nn.Linear's init of
lora_A and of lora_B and PEFT's kaiming_uniform_(a=sqrt(5)) of lora_A again; then it reseeds 99 and sets
lora_B = 0.05 * randn. This replays those draws (torch's CPU generator gives the same numbers across
versions): the lora_B written here equals the fixture's param.*lora_B exactly.
    /usr/bin/python3 make_run_initial_lora.py OUTDIR      (torch only: Debian's python3-torch will do)
"""
import json, math, struct, sys
import torch

out = sys.argv[1]
H, KV, I, LAYERS, R = 64, 32, 160, 2, 8
SITES = [("self_attn.q_proj", H, H), ("self_attn.k_proj", H, KV), ("self_attn.v_proj", H, KV), ("self_attn.o_proj", H, H),
         ("mlp.gate_proj", H, I), ("mlp.up_proj", H, I), ("mlp.down_proj", I, H)]

def kaiming(t):
    torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5))

torch.manual_seed(99)
for l in range(LAYERS):
    for name, fin, fout in SITES:
        torch.randn(fout, R)                      # the first model's lora_B
lora_a = {}
for l in range(LAYERS):
    for name, fin, fout in SITES:
        a, b = torch.empty(R, fin), torch.empty(fout, R)
        kaiming(a); kaiming(b)                    # nn.Linear(in, r) and nn.Linear(r, out)
        kaiming(a)                                # PEFT's reset_lora_parameters
        lora_a[(l, name)] = a
torch.manual_seed(99)
tensors = {}
for l in range(LAYERS):
    for name, fin, fout in SITES:
        pre = f"base_model.model.model.layers.{l}.{name}"
        tensors[pre + ".lora_A.weight"] = lora_a[(l, name)]
        tensors[pre + ".lora_B.weight"] = 0.05 * torch.randn(fout, R)

header, blobs, off = {}, [], 0
for k, t in tensors.items():
    data = t.contiguous().numpy().astype("<f4").tobytes()
    header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
    off += len(data)
    blobs.append(data)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(out + "/adapter_model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)))
    f.write(h)
    for b in blobs:
        f.write(b)
