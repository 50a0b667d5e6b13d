"""One LoRA training step (forward + backward) of a small Llama in plain PyTorch, as bench/lora_step.sh runs it.

The model is what transformers' LlamaForCausalLM computes (RMSNorm, rotate-half RoPE with llama3 scaling,
grouped-query attention, SwiGLU, tied embeddings) with PEFT-style LoRA (A: r x in, B: out x r, dropout on the
LoRA input, scaling alpha / r) on q, k, v and o; the base is frozen. Shapes are issue 2's: hidden 512, 8 layers,
8 heads, 4 KV heads, vocab 128256, sequence 182, batch 4, r 32. Loss: cross-entropy on the last 4 positions of
each sequence (labels -100 elsewhere, causal shift as in HF).

By default the head runs at the label positions only, as Pricer does; --full-logits computes logits over the
whole sequence and vocabulary first, as stock LlamaForCausalLM.forward does in training.

Prints: step best_seconds median_seconds tokens_per_second(best) loss
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HIDDEN, INTERMEDIATE, LAYERS, HEADS, KV_HEADS, HEAD_DIM = 512, 2048, 8, 8, 4, 64
VOCAB, SEQ, BATCH, RANK, ALPHA, DROPOUT, LABELS = 128256, 182, 4, 32, 64, 0.05, 4
EPS, THETA = 1e-5, 500000.0


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS))


class LoraLinear(nn.Module):
    """nn.Linear (frozen) + PEFT LoRA: y = x W^T + scaling * B(A(dropout(x)))."""

    def __init__(self, in_features, out_features, lora):
        super().__init__()
        self.base = nn.Linear(in_features, out_features, bias=False)
        self.base.weight.requires_grad_(False)
        self.lora = lora
        if lora:
            self.lora_A = nn.Linear(in_features, RANK, bias=False)
            self.lora_B = nn.Linear(RANK, out_features, bias=False)
            nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
            nn.init.zeros_(self.lora_B.weight)
            self.dropout = nn.Dropout(DROPOUT)
            self.scaling = ALPHA / RANK

    def forward(self, x):
        y = self.base(x)
        if self.lora:
            y = y + self.lora_B(self.lora_A(self.dropout(x))) * self.scaling
        return y


def llama3_inv_freq():
    inv_freq = 1.0 / (THETA ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float32) / HEAD_DIM))
    factor, low, high, original = 32.0, 1.0, 4.0, 8192
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > original / low, inv_freq / factor, inv_freq)
    smooth = (original / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= original / high) & (wavelen <= original / low)
    return torch.where(medium, smoothed, scaled)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q_proj = LoraLinear(HIDDEN, HEADS * HEAD_DIM, True)
        self.k_proj = LoraLinear(HIDDEN, KV_HEADS * HEAD_DIM, True)
        self.v_proj = LoraLinear(HIDDEN, KV_HEADS * HEAD_DIM, True)
        self.o_proj = LoraLinear(HEADS * HEAD_DIM, HIDDEN, True)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, HEADS, HEAD_DIM).transpose(1, 2)
        k = self.k_proj(x).view(b, t, KV_HEADS, HEAD_DIM).transpose(1, 2)
        v = self.v_proj(x).view(b, t, KV_HEADS, HEAD_DIM).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(HEADS // KV_HEADS, dim=1)
        v = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(HEAD_DIM) + mask
        out = torch.softmax(scores, dim=-1) @ v
        return self.o_proj(out.transpose(1, 2).reshape(b, t, HEADS * HEAD_DIM))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate_proj = LoraLinear(HIDDEN, INTERMEDIATE, False)
        self.up_proj = LoraLinear(HIDDEN, INTERMEDIATE, False)
        self.down_proj = LoraLinear(INTERMEDIATE, HIDDEN, False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm = RMSNorm(HIDDEN)
        self.self_attn = Attention()
        self.post_attention_layernorm = RMSNorm(HIDDEN)
        self.mlp = MLP()

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaForCausalLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, HIDDEN)
        nn.init.normal_(self.embed_tokens.weight, std=0.02)
        self.layers = nn.ModuleList(DecoderLayer() for _ in range(LAYERS))
        self.norm = RMSNorm(HIDDEN)
        for name, p in self.named_parameters():
            p.requires_grad_("lora_" in name)
        pos = torch.arange(SEQ, dtype=torch.float32)
        freqs = torch.outer(pos, llama3_inv_freq())
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)
        self.register_buffer("mask", torch.full((SEQ, SEQ), float("-inf")).triu(1), persistent=False)

    def forward(self, input_ids, labels, full_logits):
        x = self.embed_tokens(input_ids)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.mask)
        x = self.norm(x)
        shifted = labels[:, 1:]
        if full_logits:
            logits = x @ self.embed_tokens.weight.T
            return F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB), shifted.reshape(-1), ignore_index=-100)
        keep = shifted != -100
        logits = x[:, :-1][keep] @ self.embed_tokens.weight.T
        return F.cross_entropy(logits, shifted[keep])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--full-logits", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = LlamaForCausalLM().train()
    input_ids = torch.randint(0, VOCAB, (BATCH, SEQ))
    labels = torch.full_like(input_ids, -100)
    labels[:, -LABELS:] = input_ids[:, -LABELS:]
    print(f"# torch {torch.__version__}, threads={torch.get_num_threads()}, full_logits={args.full_logits}")

    def step():
        model.zero_grad(set_to_none=True)
        loss = model(input_ids, labels, args.full_logits)
        loss.backward()
        return loss.item()

    for _ in range(2):
        step()
    times, loss = [], 0.0
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"step {best:.4f} {statistics.median(times):.4f} {BATCH * SEQ / best:.1f} {loss:.4f}")


if __name__ == "__main__":
    main()
