"""OpenBLAS sgemm (through numpy) on the shapes of bench/matmul-shapes.txt, as bench/matmul.sh runs it.

Prints one line per shape: name variant m n k best_seconds gflops. The transposes are views, so numpy
hands them to sgemm as transpose flags, exactly as a PyTorch or numpy user's linear layer would.
Thread count: OPENBLAS_NUM_THREADS, set by the caller before numpy loads.
"""
import sys
import time

import numpy as np


def main():
    shapes_file = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    print(f"# numpy {np.__version__}, {blas['name']} {blas['version']}")
    rng = np.random.default_rng(1)
    for line in open(shapes_file):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, variant, m, n, k = line.split()
        m, n, k = int(m), int(n), int(k)
        if variant == "ABt":    # c[m,n] = a[m,k] @ b[n,k].T
            a, b = rng.standard_normal((m, k), np.float32), rng.standard_normal((n, k), np.float32)
            product = lambda: np.matmul(a, b.T, out=c)
        elif variant == "AB":   # c[m,n] = a[m,k] @ b[k,n]
            a, b = rng.standard_normal((m, k), np.float32), rng.standard_normal((k, n), np.float32)
            product = lambda: np.matmul(a, b, out=c)
        elif variant == "AtB":  # c[m,n] = a[k,m].T @ b[k,n]
            a, b = rng.standard_normal((k, m), np.float32), rng.standard_normal((k, n), np.float32)
            product = lambda: np.matmul(a.T, b, out=c)
        else:
            raise ValueError(f"unknown variant {variant} for shape {name}")
        c = np.empty((m, n), np.float32)
        for _ in range(3):
            product()
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            product()
            best = min(best, time.perf_counter() - t0)
        print(f"{name} {variant} {m} {n} {k} {best:.6f} {2.0 * m * n * k / best / 1e9:.2f}")


if __name__ == "__main__":
    main()
