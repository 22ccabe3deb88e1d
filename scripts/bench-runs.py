#!/usr/bin/env python3
"""Speedups over several `pel bench` processes, since timings on the project's VM differ
from one process to the next (BENCHMARKS.md, "Runs compared").

Usage: scripts/bench-runs.py RUNS THREADS [pel bench arguments...]

Runs `target/release/pel bench --threads THREADS --json FILE [arguments]` RUNS times, each in
a new process, and prints a markdown table: per block, the speedup of every process and
their median, then each process's geometric mean (all blocks, and blocks of 5 Mgas or more)
and the geometric mean of the per-block medians.
"""
import json, math, statistics, subprocess, sys, tempfile

runs, threads, rest = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
results = []  # one {name: row} per process
with tempfile.TemporaryDirectory() as tmp:
    for run in range(runs):
        path = f"{tmp}/run{run}.json"
        subprocess.run(
            ["target/release/pel", "bench", "--threads", threads, "--json", path, *rest],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with open(path) as file:
            results.append({row["name"]: row for row in json.load(file)})


def geomean(values):
    values = list(values)
    return math.exp(sum(map(math.log, values)) / len(values)) if values else float("nan")


names = list(results[0])
print(f"| block | Mgas | mode | " + " | ".join(f"run {i + 1}" for i in range(runs)) + " | median |")
print("|---|---:|---|" + "---:|" * (runs + 1))
medians = {}
for name in names:
    rows = [result[name] for result in results if name in result]
    speedups = [row["speedup"] for row in rows]
    medians[name] = statistics.median(speedups)
    modes = "/".join(sorted({row["mode"] for row in rows}))
    cells = " | ".join(f"{s:.2f}" for s in speedups)
    print(f"| {name} | {rows[0]['gas'] / 1e6:.1f} | {modes} | {cells} | **{medians[name]:.2f}** |")

gas = {name: results[0][name]["gas"] for name in names}
big = [name for name in names if gas[name] >= 5_000_000]
print()
for i, result in enumerate(results):
    every = geomean(row["speedup"] for row in result.values())
    large = geomean(result[name]["speedup"] for name in big if name in result)
    print(f"- run {i + 1}: geometric mean {every:.2f}x over {len(result)} blocks, {large:.2f}x over the {len(big)} of 5 Mgas or more")
print(
    f"- per-block medians: geometric mean {geomean(medians.values()):.2f}x over {len(names)} blocks,"
    f" {geomean(medians[name] for name in big):.2f}x over the {len(big)} of 5 Mgas or more;"
    f" slowest {min(medians.values()):.2f}x ({min(medians, key=medians.get)})"
)
