#!/usr/bin/python3
"""The Behemoth training model written independently in PyTorch, and the golden-fixture generator.

The model follows the semantics of ai.behemoth.model.ModelConfig and ai.behemoth.train (pre-norm
decoder, GQA attention with RoPE/NoPE and QK-norm, Llama 4's chunked attention on RoPE layers and
attention temperature on NoPE layers (as Hugging Face modeling_llama4.py defines them), SwiGLU, MoE with softmax or sigmoid routers,
Switch aux loss, router z-loss, aux-loss-free selection bias). It is written from those words, not
from the Java code, so that the golden test compares two independent implementations.

Regenerate the fixtures (deterministic, a few seconds on 2 cores), or one of them with --only NAME:

    /usr/bin/python3 tools/torch_reference.py --out src/test/resources/golden

Each case folder holds config.json (ModelConfig JSON), balance.json, weights.safetensors,
batch.json, expected.safetensors (logits and grad.<name>, computed in float64, stored as F32) and
expected.json (loss parts and per-MoE-layer router statistics). `--self-test` runs gradcheck on tiny
models and checks that the aux loss is 1.0 at perfect balance.
"""
import argparse
import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------
# Configuration: the ModelConfig JSON, key for key in the order ModelConfig.toJson writes it.

CONFIG_KEYS = ["vocab_size", "dim", "layers", "heads", "kv_heads", "head_dim", "context", "rope_theta",
               "norm_eps", "ffn_hidden", "experts", "top_k", "expert_hidden", "shared_expert_hidden",
               "moe_every", "router", "router_weight", "renorm_top_k", "nope_every", "qk_norm",
               "tied_embeddings", "init_std", "attention_chunk", "temperature_floor", "temperature_scale"]


def model_config(**fields):
    """A full ModelConfig dict; ropeTheta, normEps and initStd are doubles in Java, so kept floats."""
    c = dict(vocab_size=48, dim=16, layers=2, heads=4, kv_heads=4, head_dim=4, context=16, rope_theta=10000.0,
             norm_eps=1e-5, ffn_hidden=32, experts=4, top_k=2, expert_hidden=16, shared_expert_hidden=0,
             moe_every=1, router="softmax", router_weight="output", renorm_top_k=True, nope_every=0,
             qk_norm="none", tied_embeddings=False, init_std=0.02, attention_chunk=0, temperature_floor=0,
             temperature_scale=0.0)
    for k, v in fields.items():
        if k not in c:
            raise ValueError("unknown config field " + k)
        c[k] = v
    for k in ("rope_theta", "norm_eps", "init_std", "temperature_scale"):
        c[k] = float(c[k])
    return {k: c[k] for k in CONFIG_KEYS}


def is_moe_layer(c, i):
    return c["experts"] > 0 and (i + 1) % c["moe_every"] == 0


def uses_rope(c, i):
    return c["nope_every"] <= 0 or (i + 1) % c["nope_every"] != 0


def parameter_shapes(c):
    """(name, shape) for every parameter, in the order and with the names of ParameterLayout."""
    d, hd, q_dim, kv_dim = c["dim"], c["head_dim"], c["heads"] * c["head_dim"], c["kv_heads"] * c["head_dim"]
    out = [("tok_embeddings.weight", (c["vocab_size"], d))]
    for i in range(c["layers"]):
        p = f"layers.{i}."
        out += [(p + "attention_norm.weight", (d,)), (p + "attention.wq.weight", (q_dim, d)),
                (p + "attention.wk.weight", (kv_dim, d)), (p + "attention.wv.weight", (kv_dim, d)),
                (p + "attention.wo.weight", (d, q_dim))]
        if c["qk_norm"] == "rms_weight":
            out += [(p + "attention.q_norm.weight", (hd,)), (p + "attention.k_norm.weight", (hd,))]
        out.append((p + "ffn_norm.weight", (d,)))
        if is_moe_layer(c, i):
            e, h = c["experts"], c["expert_hidden"]
            out += [(p + "feed_forward.router.weight", (e, d)), (p + "feed_forward.experts.w1", (e, h, d)),
                    (p + "feed_forward.experts.w3", (e, h, d)), (p + "feed_forward.experts.w2", (e, d, h))]
            s = c["shared_expert_hidden"]
            if s > 0:
                out += [(p + "feed_forward.shared_expert.w1.weight", (s, d)),
                        (p + "feed_forward.shared_expert.w3.weight", (s, d)),
                        (p + "feed_forward.shared_expert.w2.weight", (d, s))]
        else:
            f = c["ffn_hidden"]
            out += [(p + "feed_forward.w1.weight", (f, d)), (p + "feed_forward.w3.weight", (f, d)),
                    (p + "feed_forward.w2.weight", (d, f))]
    out.append(("norm.weight", (d,)))
    if not c["tied_embeddings"]:
        out.append(("output.weight", (c["vocab_size"], d)))
    return out


# ---------------------------------------------------------------------------------------------
# The model. `params` maps ParameterLayout names to tensors; `balance` is a dict with mode
# ("none" | "aux" | "aux_free"), aux_alpha, z_loss and, for aux_free, bias: one list per MoE layer.

def rms_norm(x, weight, eps):
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return y if weight is None else y * weight


def rope(x, theta):
    """Rotate-halves RoPE (Hugging Face rotate_half) over x [B, heads, T, hd], positions 0..T-1."""
    t, hd = x.shape[-2], x.shape[-1]
    inv_freq = theta ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    angles = torch.arange(t, dtype=torch.float64)[:, None] * inv_freq[None, :]
    cos = torch.cat([angles.cos(), angles.cos()], -1).to(x.dtype)
    sin = torch.cat([angles.sin(), angles.sin()], -1).to(x.dtype)
    half = hd // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rotated * sin


def attention(c, i, params, x):
    b, t, _ = x.shape
    h, kv, hd, eps = c["heads"], c["kv_heads"], c["head_dim"], c["norm_eps"]
    p = f"layers.{i}.attention."
    q = (x @ params[p + "wq.weight"].T).view(b, t, h, hd).transpose(1, 2)
    k = (x @ params[p + "wk.weight"].T).view(b, t, kv, hd).transpose(1, 2)
    v = (x @ params[p + "wv.weight"].T).view(b, t, kv, hd).transpose(1, 2)
    if c["qk_norm"] == "rms_weight":  # Qwen3: weighted RMS norm per head, before RoPE, every layer
        q = rms_norm(q, params[p + "q_norm.weight"], eps)
        k = rms_norm(k, params[p + "k_norm.weight"], eps)
    if uses_rope(c, i):
        q, k = rope(q, c["rope_theta"]), rope(k, c["rope_theta"])
        if c["qk_norm"] == "rms":  # Llama 4: weightless RMS norm after RoPE, RoPE layers only
            q, k = rms_norm(q, None, eps), rms_norm(k, None, eps)
    positions = torch.arange(t)
    if not uses_rope(c, i) and c["temperature_floor"] > 0:
        # Llama 4 temperature tuning, NoPE layers: q *= log1p(floor((pos + 1) / floor_scale)) * attn_scale + 1
        steps = torch.floor((positions.to(q.dtype) + 1) / c["temperature_floor"])
        q = q * (torch.log1p(steps) * c["temperature_scale"] + 1).view(1, 1, t, 1)
    k = k.repeat_interleave(h // kv, dim=1)  # query head j reads kv head j // (h / kv)
    v = v.repeat_interleave(h // kv, dim=1)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
    visible = positions[None, :] <= positions[:, None]  # [query, key]: causal
    if uses_rope(c, i) and c["attention_chunk"] > 0:
        # Llama 4 chunked attention, RoPE layers: a query sees only the keys of its own chunk
        chunk = c["attention_chunk"]
        visible &= (positions[None, :] // chunk) == (positions[:, None] // chunk)
    scores = scores.masked_fill(~visible, float("-inf"))
    y = scores.softmax(-1) @ v
    return y.transpose(1, 2).reshape(b, t, h * hd) @ params[p + "wo.weight"].T


def swiglu(x, w1, w3, w2):
    return (F.silu(x @ w1.T) * (x @ w3.T)) @ w2.T


def moe(c, i, params, x, balance, bias):
    """x [n, D] -> (y [n, D], stats dict with tensors aux, z and plain-number statistics)."""
    n = x.shape[0]
    e_count, k = c["experts"], c["top_k"]
    p = f"layers.{i}.feed_forward."
    logits = x @ params[p + "router.weight"].T
    if c["router"] == "softmax":
        scores = logits.softmax(-1)
        probs = scores
    else:
        scores = torch.sigmoid(logits)
        probs = scores / scores.sum(-1, keepdim=True)
    selection = scores.detach()
    if balance["mode"] == "aux_free":
        selection = selection + torch.as_tensor(bias, dtype=selection.dtype)
    ranked, order = selection.sort(stable=True, dim=-1, descending=True)  # ties: lower index first
    chosen = order[:, :k]
    weights = scores.gather(1, chosen)
    if c["renorm_top_k"]:
        weights = weights / weights.sum(-1, keepdim=True)
    y = torch.zeros_like(x)
    w1, w3, w2 = params[p + "experts.w1"], params[p + "experts.w3"], params[p + "experts.w2"]
    for e in range(e_count):
        rows, slot = (chosen == e).nonzero(as_tuple=True)
        if rows.numel() == 0:
            continue
        w = weights[rows, slot].unsqueeze(1)
        if c["router_weight"] == "output":
            out = w * swiglu(x[rows], w1[e], w3[e], w2[e])
        else:
            out = swiglu(w * x[rows], w1[e], w3[e], w2[e])
        y = y.index_add(0, rows, out)
    if c["shared_expert_hidden"] > 0:
        s = p + "shared_expert."
        y = y + swiglu(x, params[s + "w1.weight"], params[s + "w3.weight"], params[s + "w2.weight"])

    counts = torch.bincount(chosen.flatten(), minlength=e_count)
    fraction = counts.to(x.dtype) / (n * k)  # f_e: a count, carries no gradient
    aux = e_count * (fraction * probs.mean(0)).sum()
    z = torch.logsumexp(logits, -1).pow(2).mean()
    load = counts.double() / counts.sum()
    mean_load = 1.0 / e_count
    entropy = -(probs * probs.log()).sum(-1).mean()
    margin = (ranked[:, k - 1] - ranked[:, k]).min().item() if k < e_count else math.inf
    stats = dict(layer=i, counts=[int(v) for v in counts], load=[float(v) for v in load],
                 max_vio=float((load.max() - mean_load) / mean_load), dead=int((counts == 0).sum()),
                 entropy=float(entropy), aux_tensor=aux, z_tensor=z, margin=margin)
    return y, stats


def forward(c, params, tokens, targets, balance):
    """tokens, targets: int64 [B, T]. Returns (total, ce, aux, z, logits [B*T, V], per-layer stats)."""
    b, t = tokens.shape
    h = params["tok_embeddings.weight"][tokens]
    eps = c["norm_eps"]
    stats = []
    moe_index = 0
    for i in range(c["layers"]):
        p = f"layers.{i}."
        h = h + attention(c, i, params, rms_norm(h, params[p + "attention_norm.weight"], eps))
        x = rms_norm(h, params[p + "ffn_norm.weight"], eps)
        if is_moe_layer(c, i):
            bias = balance["bias"][moe_index] if balance["mode"] == "aux_free" else None
            y, s = moe(c, i, params, x.reshape(b * t, -1), balance, bias)
            h = h + y.view(b, t, -1)
            stats.append(s)
            moe_index += 1
        else:
            f = p + "feed_forward."
            h = h + swiglu(x, params[f + "w1.weight"], params[f + "w3.weight"], params[f + "w2.weight"])
    out = params["tok_embeddings.weight"] if c["tied_embeddings"] else params["output.weight"]
    logits = (rms_norm(h, params["norm.weight"], eps) @ out.T).reshape(b * t, -1)
    ce = F.cross_entropy(logits, targets.reshape(-1))
    zero = logits.new_zeros(())
    aux = sum((s["aux_tensor"] for s in stats), zero)
    z = sum((s["z_tensor"] for s in stats), zero)
    aux_alpha = balance["aux_alpha"] if balance["mode"] == "aux" else 0.0
    total = ce + aux_alpha * aux + balance["z_loss"] * z
    return total, ce, aux, z, logits, stats


# ---------------------------------------------------------------------------------------------
# Fixtures.

def write_safetensors(path, tensors):
    """F32 safetensors, tensors in the given order, header padded with spaces to 8 bytes."""
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(data.shape), "data_offsets": [offset, offset + data.nbytes]}
        blobs.append(data.tobytes())
        offset += data.nbytes
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for blob in blobs:
            f.write(blob)


def random_weights(c, generator, matrix_std, router_std):
    """float32 values (the fixture stores F32, so the float64 reference starts from exactly those)."""
    weights = {}
    for name, shape in parameter_shapes(c):
        if len(shape) == 1:  # norm weights: near 1, but not 1, so their gradients matter
            w = 1 + 0.1 * torch.randn(shape, generator=generator, dtype=torch.float64)
        else:
            std = router_std if name.endswith("router.weight") else matrix_std
            w = std * torch.randn(shape, generator=generator, dtype=torch.float64)
        weights[name] = w.float()
    return weights


def evaluate(c, weights, tokens, targets, balance, dtype):
    params = {n: w.to(dtype).clone().requires_grad_() for n, w in weights.items()}
    total, ce, aux, z, logits, stats = forward(c, params, tokens, targets, balance)
    total.backward()
    grads = {n: p.grad.detach() for n, p in params.items()}
    return dict(total=total.item(), ce=ce.item(), aux=aux.item(), z=z.item(), logits=logits.detach(),
                grads=grads, stats=stats)


def worst_error(actual, expected, floor_fraction):
    """max over elements of |a-b| / max(|b|, floor_fraction * max|b|): the golden test's measure."""
    scale = floor_fraction * expected.abs().max().item()
    denom = expected.abs().clamp_min(max(scale, 1e-30))
    return ((actual.double() - expected).abs() / denom).max().item()


# The golden test's tolerance: |a-b| <= RTOL * max(|b|, FLOOR * max|b| of the tensor).
RTOL, FLOOR = 1e-4, 3e-2
MIN_MARGIN = 1e-3


def make_case(root, name, c, balance, seed, batch=2, seq=12, matrix_std=0.15, router_std=0.6):
    for attempt in range(300):
        case_seed = seed + 1000 * attempt
        g = torch.Generator().manual_seed(case_seed)
        weights = random_weights(c, g, matrix_std, router_std)
        tokens = torch.randint(0, c["vocab_size"], (batch, seq), generator=g)
        targets = torch.randint(0, c["vocab_size"], (batch, seq), generator=g)
        bal = dict(balance)
        if bal["mode"] == "aux_free":
            moe_layers = sum(is_moe_layer(c, i) for i in range(c["layers"]))
            bal["bias"] = [(0.05 * torch.randn(c["experts"], generator=g, dtype=torch.float64)).float().tolist()
                           for _ in range(moe_layers)]
        ref = evaluate(c, weights, tokens, targets, bal, torch.float64)
        margin = min((s["margin"] for s in ref["stats"]), default=math.inf)
        if margin <= MIN_MARGIN:
            continue
        # How far plain float32 lands from the float64 truth under the test's measure: it must sit
        # well inside the tolerance, or the fixture would be too fragile for a float32 implementation.
        f32 = evaluate(c, weights, tokens, targets, bal, torch.float32)
        f32_worst = max([worst_error(f32["logits"], ref["logits"], FLOOR)]
                        + [worst_error(f32["grads"][n], ref["grads"][n], FLOOR) for n in weights])
        if f32_worst <= 0.3 * RTOL and [s["counts"] for s in f32["stats"]] == [s["counts"] for s in ref["stats"]]:
            break
    else:
        raise RuntimeError(f"{name}: no seed gave top-k margins above {MIN_MARGIN} and float32 well inside {RTOL}")

    # The fixture must be able to tell a missing balancing term or an ignored bias from the truth.
    routers = [n for n in weights if n.endswith("router.weight")]
    if routers and (bal["z_loss"] > 0 or (bal["mode"] == "aux" and bal["aux_alpha"] > 0)):
        plain = evaluate(c, weights, tokens, targets, dict(bal, aux_alpha=0.0, z_loss=0.0), torch.float64)
        effect = max(worst_error(plain["grads"][n], ref["grads"][n], FLOOR) for n in routers)
        if effect < 100 * RTOL:
            raise RuntimeError(f"{name}: the balancing losses change router gradients by only {effect:.1e}")
    if bal["mode"] == "aux_free":
        unbiased = evaluate(c, weights, tokens, targets, dict(bal, mode="aux"), torch.float64)
        if [s["counts"] for s in unbiased["stats"]] == [s["counts"] for s in ref["stats"]]:
            raise RuntimeError(f"{name}: the selection bias changes no routing decision")

    folder = os.path.join(root, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")
    with open(os.path.join(folder, "balance.json"), "w") as f:
        json.dump(bal, f, indent=2)
        f.write("\n")
    with open(os.path.join(folder, "batch.json"), "w") as f:
        json.dump(dict(batch=batch, seq=seq, tokens=tokens.flatten().tolist(), targets=targets.flatten().tolist()), f)
        f.write("\n")
    write_safetensors(os.path.join(folder, "weights.safetensors"), {n: w.numpy() for n, w in weights.items()})
    expected = {"logits": ref["logits"].numpy()}
    expected.update({"grad." + n: g.numpy() for n, g in ref["grads"].items()})
    write_safetensors(os.path.join(folder, "expected.safetensors"), expected)
    layers = [dict(layer=s["layer"], counts=s["counts"], load=s["load"], max_vio=s["max_vio"], dead=s["dead"],
                   entropy=s["entropy"], aux=s["aux_tensor"].item(), z=s["z_tensor"].item()) for s in ref["stats"]]
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(dict(total=ref["total"], ce=ref["ce"], aux=ref["aux"], z=ref["z"], router=layers), f, indent=2)
        f.write("\n")
    print(f"{name:22s} seed {case_seed:6d}  total {ref['total']:.6f}  ce {ref['ce']:.6f}  "
          f"aux {ref['aux']:.6f}  z {ref['z']:.6f}  margin {margin:.2e}  float32 worst {f32_worst:.1e}")


def cases():
    """(name, config, balance, seed): each preset family shrunk, plus the variants the issue asks for."""
    aux = dict(mode="aux", aux_alpha=0.1, z_loss=0.01)
    return [
        # tiny / Mixtral family: softmax router on the expert output, top-k renormalised.
        ("tiny", model_config(), aux, 1),
        ("mixtral_gqa", model_config(heads=4, kv_heads=2, rope_theta=1e6, experts=6, top_k=2), aux, 2),
        # Qwen3-MoE: weighted QK-norm before RoPE, q_dim (32) wider than dim (16), 8 experts top-4.
        ("qwen3moe", model_config(heads=4, kv_heads=2, head_dim=8, rope_theta=1e6, norm_eps=1e-6, experts=8,
                                  top_k=4, expert_hidden=8, qk_norm="rms_weight"), aux, 3),
        # Llama 4: sigmoid top-1 on the expert input, shared expert, MoE every 2nd layer, NoPE every
        # 4th layer and weightless QK-norm on the RoPE layers.
        ("llama4", model_config(layers=4, heads=4, kv_heads=2, rope_theta=500000.0, top_k=1,
                                shared_expert_hidden=16, moe_every=2, router="sigmoid", router_weight="input",
                                renorm_top_k=False, nope_every=4, qk_norm="rms"), aux, 4),
        # Llama 4's long context, shrunk: chunks of 4 on the RoPE layers 0 and 2 (three chunks in 12
        # positions) and attention temperature with floor 2 on the NoPE layers 1 and 3.
        ("llama4_chunked", model_config(layers=4, heads=4, kv_heads=2, rope_theta=500000.0, top_k=1,
                                        shared_expert_hidden=16, moe_every=2, router="sigmoid", router_weight="input",
                                        renorm_top_k=False, nope_every=2, qk_norm="rms", attention_chunk=4,
                                        temperature_floor=2, temperature_scale=0.5), aux, 12),
        ("llama4_nope2", model_config(layers=3, heads=4, kv_heads=1, top_k=2, shared_expert_hidden=8,
                                      router="sigmoid", router_weight="input", renorm_top_k=False, nope_every=2,
                                      qk_norm="rms"), aux, 5),
        ("dense", model_config(experts=0, top_k=0, expert_hidden=0), dict(mode="none", aux_alpha=0.0, z_loss=0.0), 6),
        # Both routers, shared expert on and off, both weight placements.
        ("sigmoid_output", model_config(router="sigmoid", experts=5, top_k=2), aux, 7),
        ("softmax_input_shared", model_config(router_weight="input", renorm_top_k=False, shared_expert_hidden=12),
         dict(mode="none", aux_alpha=0.1, z_loss=0.02), 8),
        # Tied embeddings with GQA and a dense layer between MoE layers.
        ("tied_gqa", model_config(layers=3, heads=4, kv_heads=2, moe_every=2, tied_embeddings=True), aux, 9),
        # Aux-loss-free selection bias (DeepSeek-V3 style: sigmoid, renormalised, shared expert), and softmax.
        ("auxfree_sigmoid", model_config(router="sigmoid", experts=6, top_k=2, shared_expert_hidden=8),
         dict(mode="aux_free", aux_alpha=0.1, z_loss=0.01), 10),
        ("auxfree_softmax", model_config(experts=4, top_k=1), dict(mode="aux_free", aux_alpha=0.0, z_loss=0.005), 11),
    ]


# ---------------------------------------------------------------------------------------------
# Self-checks of the reference itself.

def self_test():
    torch.manual_seed(0)
    for router, weight_at, shared, mode, chunk in [("softmax", "output", 0, "aux", 0), ("sigmoid", "input", 6, "aux", 0),
                                                   ("sigmoid", "output", 0, "aux_free", 0), ("sigmoid", "input", 6, "aux", 2)]:
        c = model_config(vocab_size=11, dim=8, heads=2, kv_heads=1, head_dim=4, ffn_hidden=8, experts=4, top_k=2,
                         expert_hidden=6, shared_expert_hidden=shared, moe_every=2, router=router,
                         router_weight=weight_at, nope_every=2, qk_norm="rms", renorm_top_k=router == "softmax",
                         attention_chunk=chunk, temperature_floor=2 if chunk else 0, temperature_scale=0.5 if chunk else 0)
        names = [n for n, _ in parameter_shapes(c)]
        g = torch.Generator().manual_seed(3)
        weights = random_weights(c, g, 0.3, 0.8)
        tokens = torch.randint(0, 11, (2, 5), generator=g)
        targets = torch.randint(0, 11, (2, 5), generator=g)
        balance = dict(mode=mode, aux_alpha=0.5, z_loss=0.1, bias=[[0.05, -0.02, 0.0, 0.03]])

        def loss(*tensors):
            return forward(c, dict(zip(names, tensors)), tokens, targets, balance)[0]

        inputs = tuple(weights[n].double().requires_grad_() for n in names)
        assert torch.autograd.gradcheck(loss, inputs, eps=1e-6, atol=1e-6, rtol=1e-5), router
        print(f"gradcheck passed: router {router}, weight on {weight_at}, shared {shared}, mode {mode}, chunk {chunk}")

    # Perfect balance: token t goes to expert t % E (top-1), so f_e = 1/E and aux = sum_e P_e = 1.
    for router in ("softmax", "sigmoid"):
        c = model_config(dim=4, experts=4, top_k=1, router=router)
        params = {"layers.0.feed_forward.router.weight": 5 * torch.eye(4, dtype=torch.float64),
                  "layers.0.feed_forward.experts.w1": torch.zeros(4, 16, 4, dtype=torch.float64),
                  "layers.0.feed_forward.experts.w3": torch.zeros(4, 16, 4, dtype=torch.float64),
                  "layers.0.feed_forward.experts.w2": torch.zeros(4, 4, 16, dtype=torch.float64)}
        x = torch.eye(4, dtype=torch.float64).repeat(3, 1)
        _, s = moe(c, 0, params, x, dict(mode="aux"), None)
        assert s["counts"] == [3, 3, 3, 3] and abs(s["aux_tensor"].item() - 1.0) < 1e-12, s
        _, s = moe(c, 0, params, torch.eye(4, dtype=torch.float64)[[0] * 12], dict(mode="aux"), None)
        assert s["counts"] == [12, 0, 0, 0] and s["aux_tensor"].item() > 1.5, s
        print(f"aux loss: 1.0 at perfect balance, {s['aux_tensor'].item():.3f} with all tokens on one expert ({router})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="src/test/resources/golden", help="folder for the case folders")
    parser.add_argument("--self-test", action="store_true", help="run gradcheck and the balance check only")
    parser.add_argument("--only", help="write only the case of this name")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.self_test:
        self_test()
        return
    os.makedirs(args.out, exist_ok=True)
    chosen = [case for case in cases() if args.only in (None, case[0])]
    if not chosen:
        parser.error(f"no case named {args.only}")
    for name, c, balance, seed in chosen:
        make_case(args.out, name, c, balance, seed)


if __name__ == "__main__":
    sys.exit(main())
