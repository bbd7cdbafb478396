#!/usr/bin/python3
"""PyTorch peer run for issue 3's "Reference to meet": the same MoE model, data, optimizer and
schedule as `behemoth train` with the reference flags, using the model in torch_reference.py.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/torch_train_reference.py

(The machines force OpenBLAS's AVX2 kernels through those two variables; unset them to let it use
AVX-512, as the reference figures did.) Defaults are the reference configuration: byte tokens, 4
layers, dim 128, 4 heads, context 128, 8 experts top-2 with hidden 256, softmax router on the expert
output, aux 0.01, z 0.001, batch 16, 1000 steps, AdamW lr 1e-3 (betas 0.9/0.95, decay 0.1 on
matrices), warmup 100 then cosine to 0.1·lr, clip 1.0, seed 1337, untied embeddings, init std 0.02.
`--steps 100` gives a tokens/s figure in about a minute (the schedule then spans 100 steps).
"""
import argparse
import gzip
import math
import os
import statistics
import time

import torch

from torch_reference import forward, model_config, parameter_shapes

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "main", "resources", "ai", "behemoth",
                      "data", "tinyshakespeare.txt.gz")


def load_data(path):
    """Bytes of the first 90% (by characters) and the final 10% of one document, as TrainingData does."""
    with gzip.open(path, "rb") as f:
        text = f.read().decode("utf-8")
    cut = int(len(text) * 0.9)
    to_ids = lambda s: torch.tensor(list(s.encode("utf-8")), dtype=torch.long)
    return to_ids(text[:cut]), to_ids(text[cut:])


def initialize(c, generator):
    """Truncated normal (±2σ) for matrices and embeddings, ones for norm weights."""
    params = {}
    for name, shape in parameter_shapes(c):
        if len(shape) == 1:
            w = torch.ones(shape)
        else:
            w = truncated_normal(shape, c["init_std"], generator)
        params[name] = w.requires_grad_()
    return params


def truncated_normal(shape, std, generator):
    """Normal(0, std) redrawn outside ±2σ (torch 1.13's trunc_normal_ takes no generator)."""
    values = torch.randn(shape, generator=generator) * std
    while True:
        outside = values.abs() > 2 * std
        if not outside.any():
            return values
        values[outside] = torch.randn(int(outside.sum()), generator=generator) * std


def lr_at(step, args):
    """Linear warmup to lr, then cosine down to min_lr_ratio·lr at the last step."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    low = args.lr * args.min_lr_ratio
    return low + 0.5 * (args.lr - low) * (1 + math.cos(math.pi * progress))


def batch_at(data, offsets, ctx):
    x = torch.stack([data[o:o + ctx] for o in offsets])
    y = torch.stack([data[o + 1:o + 1 + ctx] for o in offsets])
    return x, y


def evaluate(c, params, val, args, balance):
    """Mean cross-entropy (nats per byte) over the first eval_batches·batch disjoint windows of val."""
    windows = min(args.eval_batches * args.batch, (len(val) - 1) // args.ctx)
    total = 0.0
    with torch.no_grad():
        for start in range(0, windows, args.batch):
            offsets = [w * args.ctx for w in range(start, min(start + args.batch, windows))]
            x, y = batch_at(val, offsets, args.ctx)
            total += forward(c, params, x, y, balance)[1].item() * len(offsets)
    return total / windows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--ctx", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--top-k", type=int, default=2)
    p.add_argument("--expert-hidden", type=int, default=256)
    p.add_argument("--aux-alpha", type=float, default=0.01)
    p.add_argument("--z-loss", type=float, default=0.001)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.95)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--eval-every", type=int, default=0, help="0: evaluate at the end only")
    p.add_argument("--eval-batches", type=int, default=50)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    c = model_config(vocab_size=256, dim=args.dim, layers=args.layers, heads=args.heads, kv_heads=args.heads,
                     head_dim=args.dim // args.heads, context=args.ctx, rope_theta=10000.0, norm_eps=1e-5,
                     ffn_hidden=512, experts=args.experts, top_k=args.top_k, expert_hidden=args.expert_hidden,
                     router="softmax", router_weight="output", renorm_top_k=True, init_std=0.02)
    balance = dict(mode="aux", aux_alpha=args.aux_alpha, z_loss=args.z_loss)
    train, val = load_data(CORPUS)
    generator = torch.Generator().manual_seed(args.seed)
    params = initialize(c, generator)
    matrices = [w for w in params.values() if w.dim() >= 2]
    vectors = [w for w in params.values() if w.dim() < 2]
    optimizer = torch.optim.AdamW([dict(params=matrices, weight_decay=args.weight_decay),
                                   dict(params=vectors, weight_decay=0.0)],
                                  lr=args.lr, betas=(args.beta1, args.beta2), eps=1e-8)
    active = sum(w.numel() for n, w in params.items() if "experts." not in n) \
        + sum(w.numel() for n, w in params.items() if "experts." in n) * args.top_k // args.experts
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{sum(w.numel() for w in params.values()):,} parameters ({active:,} active), "
          f"train {len(train):,} bytes, val {len(val):,} bytes")

    tokens_per_step = args.batch * args.ctx
    rates, cpu_rates = [], []  # tokens per wall second, tokens per CPU second of this process
    for step in range(args.steps):
        started, cpu_started = time.perf_counter(), time.process_time()
        offsets = torch.randint(0, len(train) - args.ctx - 1, (args.batch,), generator=generator).tolist()
        x, y = batch_at(train, offsets, args.ctx)
        lr = lr_at(step, args)
        for group in optimizer.param_groups:
            group["lr"] = lr
        total, ce, aux, z, _, stats = forward(c, params, x, y, balance)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(params.values(), args.grad_clip).item()
        optimizer.step()
        rate = tokens_per_step / (time.perf_counter() - started)
        if step >= 3:  # the first steps pay for allocation and warm-up
            rates.append(rate)
            cpu_rates.append(tokens_per_step / (time.process_time() - cpu_started))
        if step % args.log_every == 0 or step == args.steps - 1:
            max_vio = max(s["max_vio"] for s in stats)
            dead = sum(s["dead"] for s in stats)
            print(f"step {step:5d}  loss {ce.item():.4f}  aux {aux.item():.3f}  z {z.item():.2f}  lr {lr:.2e}  "
                  f"grad_norm {grad_norm:.3f}  max_vio {max_vio:.2f}  dead {dead}  {rate:,.0f} tokens/s", flush=True)
        if args.eval_every > 0 and step > 0 and step % args.eval_every == 0:
            loss = evaluate(c, params, val, args, balance)
            print(f"step {step:5d}  val {loss:.4f} nats/byte ({loss / math.log(2):.4f} bits/byte)", flush=True)
    loss = evaluate(c, params, val, args, balance)
    print(f"final val {loss:.4f} nats/byte ({loss / math.log(2):.4f} bits/byte) after {args.steps} steps")
    if rates:
        # On a shared machine the wall rate depends on the other load; tokens per CPU second do less.
        print(f"tokens/s: median {statistics.median(rates):,.0f} over steps 3..{args.steps - 1} "
              f"(mean {len(rates) * tokens_per_step / sum(tokens_per_step / r for r in rates):,.0f}); "
              f"tokens per CPU second: median {statistics.median(cpu_rates):,.0f}")


if __name__ == "__main__":
    main()
