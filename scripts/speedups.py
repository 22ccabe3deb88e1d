#!/usr/bin/env python3
"""Speedup table from criterion's estimates of the `parallel` bench (cargo bench --bench parallel).

Prints one row per block: gas, sequential median, each parallel engine's median and its
speedup over sequential measured in the same run, then the geometric means (all blocks, and
blocks of 5 Mgas or more).
"""
import json, math, pathlib, sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
rows = {}
for est in root.glob("engines_*/*/new/estimates.json"):
    block = est.parts[-4].removeprefix("engines_")
    engine = est.parts[-3]
    median = json.loads(est.read_text())["median"]["point_estimate"] / 1e6  # ms
    bench = json.loads((est.parent / "benchmark.json").read_text())
    gas = bench.get("throughput", {}).get("Elements", 0)
    rows.setdefault(block, {"gas": gas})[engine] = median

engines = sorted({e for r in rows.values() for e in r if e.startswith("parallel")})
print("| block | Mgas | sequential ms | " + " | ".join(f"{e} ms | x" for e in engines) + " |")
print("|---|---:|---:|" + "---:|---:|" * len(engines))
logs = {e: [] for e in engines}
big = {e: [] for e in engines}
def key(b):
    return (0, int(b)) if b.isdigit() else (1, b)
for block in sorted(rows, key=key):
    r = rows[block]
    seq = r.get("sequential")
    if not seq:
        continue
    cells = []
    for e in engines:
        if e in r:
            s = seq / r[e]
            logs[e].append(math.log(s))
            if r["gas"] >= 5_000_000:
                big[e].append(math.log(s))
            cells.append(f"{r[e]:.3f} | {s:.2f}")
        else:
            cells.append(" | ")
    print(f"| {block} | {r['gas']/1e6:.1f} | {seq:.3f} | " + " | ".join(cells) + " |")
for e in engines:
    g = math.exp(sum(logs[e]) / len(logs[e])) if logs[e] else float("nan")
    gb = math.exp(sum(big[e]) / len(big[e])) if big[e] else float("nan")
    worst = math.exp(min(logs[e])) if logs[e] else float("nan")
    print(f"{e}: geomean {g:.3f}x over {len(logs[e])} blocks, {gb:.3f}x over {len(big[e])} blocks of >= 5 Mgas, slowest {worst:.3f}x")
