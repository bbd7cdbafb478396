#!/usr/bin/env python3
"""The peer figure for `behemoth bench gemm`: PyTorch's (OpenBLAS) sgemm on the same shapes and forms.

Run it with OpenBLAS's AVX-512 kernels (these machines force AVX2 through the environment):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/bench_torch_gemm.py [--threads 2]
Forms, as in ai.behemoth.tensor.MatMul: abT = a[M,K]·b[N,K]ᵀ, ab = a[M,K]·b[K,N], aTb = a[K,M]ᵀ·b[K,N].
Each figure is the median GFLOP/s of --runs runs, each repeating the product for at least --min-time seconds.
"""
import argparse
import os
import statistics
import time

import torch

DEFAULT_SIZES = "512,1024,2048,2048x128x128,2048x128x512,512x128x256,512x256x128,2048x128x256,384x2048x128,128x32x128,128x128x32"


def parse(text):
    v = [int(x) for x in text.lower().split("x")]
    return (v[0], v[0], v[0]) if len(v) == 1 else tuple(v)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sizes", default=DEFAULT_SIZES)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--min-time", type=float, default=0.1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, load average {os.getloadavg()[0]:.2f}; "
          f"median of {args.runs} runs (min..max)")
    print("'per core-s' is GFLOP per second of process CPU time, as in `behemoth bench gemm`")
    print(f"{'form':6} {'MxKxN':16} {'GFLOP/s':>10} {'min..max':>20} {'per core-s':>10}")
    torch.manual_seed(1)
    for size in args.sizes.split(","):
        m, k, n = parse(size)
        flops = 2.0 * m * k * n
        forms = {
            "abT": (torch.rand(m, k) - 0.5, torch.rand(n, k) - 0.5, lambda a, b, o: torch.mm(a, b.t(), out=o)),
            "ab": (torch.rand(m, k) - 0.5, torch.rand(k, n) - 0.5, lambda a, b, o: torch.mm(a, b, out=o)),
            "aTb": (torch.rand(k, m) - 0.5, torch.rand(k, n) - 0.5, lambda a, b, o: torch.mm(a.t(), b, out=o)),
        }
        for name, (a, b, f) in forms.items():
            o = torch.empty(m, n)
            rates, per_cpu = [], []
            for r in range(-1, args.runs):  # run -1 warms up
                begin, cpu_begin, reps = time.perf_counter(), time.process_time(), 0
                while True:
                    f(a, b, o)
                    reps += 1
                    elapsed = time.perf_counter() - begin
                    if elapsed >= args.min_time:
                        break
                cpu = time.process_time() - cpu_begin
                if r >= 0:
                    rates.append(reps * flops / elapsed / 1e9)
                    per_cpu.append(reps * flops / max(cpu, 1e-9) / 1e9)
            print(f"{name:6} {f'{m}x{k}x{n}':16} {statistics.median(rates):10.1f} {min(rates):9.1f}..{max(rates):<9.1f}"
                  f" {statistics.median(per_cpu):10.1f}", flush=True)


if __name__ == "__main__":
    main()
