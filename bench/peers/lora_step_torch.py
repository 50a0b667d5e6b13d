"""One LoRA training step (forward + backward) in plain PyTorch, as a PyTorch user writes it: the peer of
bench/TrainStepBench.java. Same model shape, same batch, same label positions, same threads.

    python3 bench/peers/lora_step_torch.py STEPS THREADS [--label-logits-only]

Default: logits over the whole sequence and vocabulary, then cross-entropy with ignore_index=-100 (what
LlamaForCausalLM does). --label-logits-only gathers the label positions first, as Pricer does.
"""
import math, sys, time
import torch
import torch.nn.functional as F

steps, threads = int(sys.argv[1]), int(sys.argv[2])
label_only = "--label-logits-only" in sys.argv
torch.set_num_threads(threads)
torch.manual_seed(0)

V, H, I, L, NH, NKV, HD = 128256, 512, 2048, 8, 8, 4, 64
B, T, R, ALPHA, LABELS = 4, 182, 32, 64, 5
theta, eps = 500000.0, 1e-5


class LoraLinear(torch.nn.Module):
    def __init__(self, i, o, lora):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(o, i) * 0.02, requires_grad=False)
        self.lora = lora
        if lora:
            self.A = torch.nn.Parameter(torch.empty(R, i).uniform_(-1 / math.sqrt(i), 1 / math.sqrt(i)))
            self.B = torch.nn.Parameter(torch.randn(o, R) * 0.01)

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.lora:
            y = y + F.linear(F.linear(x, self.A), self.B) * (ALPHA / R)
        return y


class RMSNorm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(H), requires_grad=False)

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    return torch.cat((-x[..., HD // 2:], x[..., :HD // 2]), dim=-1)


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.n1, self.n2 = RMSNorm(), RMSNorm()
        self.q, self.k = LoraLinear(H, NH * HD, True), LoraLinear(H, NKV * HD, True)
        self.v, self.o = LoraLinear(H, NKV * HD, True), LoraLinear(NH * HD, H, True)
        self.gate, self.up, self.down = LoraLinear(H, I, False), LoraLinear(H, I, False), LoraLinear(I, H, False)

    def forward(self, x, cos, sin, mask):
        h = self.n1(x)
        q = self.q(h).view(B, T, NH, HD).transpose(1, 2)
        k = self.k(h).view(B, T, NKV, HD).transpose(1, 2)
        v = self.v(h).view(B, T, NKV, HD).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(NH // NKV, dim=1), v.repeat_interleave(NH // NKV, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(HD) + mask
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, NH * HD)
        x = x + self.o(y)
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


embed = torch.nn.Parameter(torch.randn(V, H) * 0.02, requires_grad=False)
layers = torch.nn.ModuleList([Layer() for _ in range(L)])
final = RMSNorm()
inv = 1.0 / (theta ** (torch.arange(0, HD, 2).float() / HD))
freqs = torch.outer(torch.arange(T).float(), inv)
emb = torch.cat((freqs, freqs), dim=-1)
cos, sin = emb.cos(), emb.sin()
mask = torch.full((T, T), float("-inf")).triu(1)
ids = torch.randint(3, V, (B, T))
labels = torch.full((B, T), -100)
labels[:, T - LABELS:] = ids[:, T - LABELS:]
params = [p for p in layers.parameters() if p.requires_grad]


def step():
    for p in params:
        p.grad = None
    x = embed[ids]
    for layer in layers:
        x = layer(x, cos, sin, mask)
    x = final(x)
    shift = labels[:, 1:].reshape(-1)
    if label_only:
        rows = (shift != -100).nonzero().squeeze(1)
        loss = F.cross_entropy(F.linear(x[:, :-1].reshape(-1, H)[rows], embed), shift[rows])
    else:
        logits = F.linear(x, embed)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), shift, ignore_index=-100)
    loss.backward()
    return loss.item()


step()
times = []
for _ in range(steps):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
best = min(times)
print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}, {'label-position logits' if label_only else 'full logits'}")
print(f"torch{'-label-logits' if label_only else ''} {B * T / best:.1f} tokens/s (best of {steps} steps: {best:.3f} s)")
