#!/usr/bin/python3
"""A fair, fast PyTorch peer for `behemoth bench train`: the same model, batch and optimizer, written
for speed rather than for exactness (torch_reference.py is the exactness model; its per-parameter
dict and float64-friendly code make torch_train_reference.py several times slower than PyTorch can be).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/torch_train_speed.py

(These machines force OpenBLAS's AVX2 kernels through those two variables; unset, it uses AVX-512.)
OMP_WAIT_POLICY defaults to PASSIVE here: with OpenMP's default spinning, the two OpenMP threads
of the element-wise ops spin on the cores that OpenBLAS's own two threads need, and a step takes
about 3x as long (3,000 against 9,400 tokens/s on an idle 2-core machine).
The model is the reference configuration (issue 3): byte tokens, 4 layers, dim 128, 4 heads of 32,
context 128, RoPE, 8 experts top-2 with hidden 256, softmax router on the expert output with the
top-k weights renormalised, Switch aux loss 0.01 and router z-loss 0.001, untied output head; batch
16; AdamW (betas 0.9/0.95, decay 0.1 on matrices, foreach kernels), clip 1.0; float32 throughout.

What makes it fast: nn.Linear weights with q, k and v fused into one matrix; RoPE tables computed once;
the causal mask added inside one baddbmm (torch 1.13 has no scaled_dot_product_attention); the MoE
dispatch sorts the (token, slot) pairs by expert once, gathers them with one index_select, runs one
contiguous SwiGLU per expert on a slice, and adds the weighted outputs back with one index_add_; the
expert weights are [E, H, D] parameters sliced per expert, as in Behemoth's layout.
"""
import argparse
import gzip
import math
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when torch loads OpenMP: set before the import

import torch
import torch.nn as nn
import torch.nn.functional as F

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "main", "resources", "ai", "behemoth",
                      "data", "tinyshakespeare.txt.gz")


class RmsNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Attention(nn.Module):
    def __init__(self, dim, heads, ctx, theta):
        super().__init__()
        self.heads, self.hd = heads, dim // heads
        self.wqkv = nn.Linear(dim, 3 * dim, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)
        inv_freq = theta ** (-torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd)
        angles = torch.arange(ctx, dtype=torch.float64)[:, None] * inv_freq[None, :]
        self.register_buffer("cos", torch.cat([angles.cos(), angles.cos()], -1).float(), persistent=False)
        self.register_buffer("sin", torch.cat([angles.sin(), angles.sin()], -1).float(), persistent=False)
        mask = torch.full((ctx, ctx), float("-inf")).triu(1)
        self.register_buffer("mask", mask, persistent=False)

    def rope(self, x):  # rotate halves, x [B, H, T, hd]
        t, half = x.shape[-2], self.hd // 2
        x1, x2 = x[..., :half], x[..., half:]
        return x * self.cos[:t] + torch.cat([-x2, x1], -1) * self.sin[:t]

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.wqkv(x).view(b, t, 3, self.heads, self.hd).permute(2, 0, 3, 1, 4)  # [3, B, H, T, hd]
        q, k = self.rope(qkv[0]), self.rope(qkv[1])
        q = q.reshape(b * self.heads, t, self.hd)
        k = k.reshape(b * self.heads, t, self.hd)
        v = qkv[2].reshape(b * self.heads, t, self.hd)
        scores = torch.baddbmm(self.mask[:t, :t], q, k.transpose(1, 2), alpha=1.0 / math.sqrt(self.hd))
        y = torch.bmm(scores.softmax(-1), v).view(b, self.heads, t, self.hd).transpose(1, 2).reshape(b, t, d)
        return self.wo(y)


class Moe(nn.Module):
    def __init__(self, dim, experts, top_k, hidden, std):
        super().__init__()
        self.experts, self.top_k = experts, top_k
        self.router = nn.Linear(dim, experts, bias=False)
        self.w1 = nn.Parameter(torch.randn(experts, hidden, dim) * std)
        self.w3 = nn.Parameter(torch.randn(experts, hidden, dim) * std)
        self.w2 = nn.Parameter(torch.randn(experts, dim, hidden) * std)

    def forward(self, x):
        """x [n, D] -> y [n, D], aux loss, z loss."""
        n, k = x.shape[0], self.top_k
        logits = self.router(x)
        probs = logits.softmax(-1)
        weights, chosen = probs.topk(k, dim=-1)
        weights = weights / weights.sum(-1, keepdim=True)
        flat = chosen.reshape(-1)
        order = flat.argsort()
        counts = torch.bincount(flat, minlength=self.experts)
        token = order // k                                   # token of each sorted (token, slot) pair
        xs = x.index_select(0, token)
        outs = []
        start = 0
        for e, count in enumerate(counts.tolist()):
            if count == 0:
                continue
            xe = xs[start:start + count]
            outs.append(F.linear(F.silu(F.linear(xe, self.w1[e])) * F.linear(xe, self.w3[e]), self.w2[e]))
            start += count
        out = torch.cat(outs) * weights.reshape(-1, 1).index_select(0, order)
        y = torch.zeros_like(x).index_add_(0, token, out)
        fraction = counts.to(x.dtype) / (n * k)
        aux = self.experts * (fraction * probs.mean(0)).sum()
        z = torch.logsumexp(logits, -1).pow(2).mean()
        return y, aux, z


class Block(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.attention_norm = RmsNorm(a.dim, 1e-5)
        self.attention = Attention(a.dim, a.heads, a.ctx, 10000.0)
        self.ffn_norm = RmsNorm(a.dim, 1e-5)
        self.moe = Moe(a.dim, a.experts, a.top_k, a.expert_hidden, 0.02)

    def forward(self, h):
        h = h + self.attention(self.attention_norm(h))
        b, t, d = h.shape
        y, aux, z = self.moe(self.ffn_norm(h).view(b * t, d))
        return h + y.view(b, t, d), aux, z


class Model(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.embed = nn.Embedding(256, a.dim)
        self.layers = nn.ModuleList(Block(a) for _ in range(a.layers))
        self.norm = RmsNorm(a.dim, 1e-5)
        self.output = nn.Linear(a.dim, 256, bias=False)
        for name, w in self.named_parameters():
            if w.dim() >= 2:
                nn.init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04)

    def forward(self, tokens, targets, aux_alpha, z_loss):
        h = self.embed(tokens)
        aux = z = 0
        for layer in self.layers:
            h, a, zz = layer(h)
            aux, z = aux + a, z + zz
        logits = self.output(self.norm(h))
        ce = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))
        return ce + aux_alpha * aux + z_loss * z


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup-steps", type=int, default=3)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--ctx", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--top-k", type=int, default=2)
    p.add_argument("--expert-hidden", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1337)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    with gzip.open(CORPUS, "rb") as f:
        data = torch.tensor(list(f.read()), dtype=torch.long)
    model = Model(a)
    matrices = [w for w in model.parameters() if w.dim() >= 2]
    vectors = [w for w in model.parameters() if w.dim() < 2]
    optimizer = torch.optim.AdamW([dict(params=matrices, weight_decay=0.1), dict(params=vectors, weight_decay=0.0)],
                                  lr=1e-3, betas=(0.9, 0.95), eps=1e-8, foreach=True)
    params = list(model.parameters())
    tokens_per_step = a.batch * a.ctx
    seconds, cpu_seconds = [], []
    for step in range(a.warmup_steps + a.steps):
        started, cpu_started = time.perf_counter(), time.process_time()
        offsets = torch.randint(0, len(data) - a.ctx - 1, (a.batch, 1))
        index = offsets + torch.arange(a.ctx)
        x, y = data[index], data[index + 1]
        loss = model(x, y, 0.01, 0.001)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if step >= a.warmup_steps:
            seconds.append(time.perf_counter() - started)
            cpu_seconds.append(time.process_time() - cpu_started)
    median = statistics.median(seconds)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{sum(w.numel() for w in params):,} parameters; batch {a.batch} x ctx {a.ctx}; loss {loss.item():.4f}")
    print(f"step time   median {median * 1e3:.1f} ms (min {min(seconds) * 1e3:.1f}, max {max(seconds) * 1e3:.1f})")
    print(f"tokens/s    {tokens_per_step / median:,.0f} (per CPU-second: {tokens_per_step / statistics.median(cpu_seconds):,.0f})")


if __name__ == "__main__":
    main()
