#!/usr/bin/python3
"""Optuna's side of bench/hpo_quality.sh: the same objectives (bench/hpo_functions.h),
TPE (Optuna's defaults), median best over seeds, and ask() latency with 1,000
finished trials. Prints TSV lines like hpo_quality_bench. Needs Debian's
python3-optuna (run with /usr/bin/python3)."""
import math
import statistics
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
trials = int(sys.argv[1]) if len(sys.argv) > 1 else 100
seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 20


def branin(t):
    x1, x2 = t.suggest_float("x1", -5, 10), t.suggest_float("x2", 0, 15)
    a, b, c, r, s, tt = 1, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return a * (x2 - b * x1 * x1 + c * x1 - r) ** 2 + s * (1 - tt) * math.cos(x1) + s


A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886], [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
     [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650], [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(t):
    x = [t.suggest_float(f"x{j}", 0, 1) for j in range(6)]
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6))) for i in range(4))


def rosenbrock4(t):
    x = [t.suggest_float(f"x{j}", -2, 2) for j in range(4)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def mixed(t):
    c = t.suggest_categorical("kind", ["a", "b", "c"])
    x = t.suggest_float("x", -5, 5)
    y = t.suggest_float("y", 0.001, 10.0, log=True)
    offset = {"a": 1.0, "b": -2.0, "c": 3.0}[c]
    bias = {"a": 0.0, "b": 0.5, "c": 1.0}[c]
    return (x - offset) ** 2 + (math.log10(y) + 1) ** 2 + bias


for name, f in [("branin", branin), ("hartmann6", hartmann6), ("rosenbrock4", rosenbrock4), ("mixed", mixed)]:
    bests = []
    for seed in range(seeds):
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed), direction="minimize")
        study.optimize(f, n_trials=trials)
        bests.append(study.best_value)
    print(f"quality\tOptuna-TPE\t{name}\t{statistics.median(bests):.6g}", flush=True)

# ask() latency with 1,000 finished trials (Branin's space).
study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=7), direction="minimize")
dists = {"x1": optuna.distributions.FloatDistribution(-5, 10), "x2": optuna.distributions.FloatDistribution(0, 15)}
import random
rng = random.Random(7)
for _ in range(1000):
    params = {"x1": rng.uniform(-5, 10), "x2": rng.uniform(0, 15)}
    x1, x2 = params["x1"], params["x2"]
    value = (x2 - 5.1 / (4 * math.pi ** 2) * x1 * x1 + 5 / math.pi * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10
    study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=value))
calls = 5
start = time.perf_counter()
for _ in range(calls):
    trial = study.ask(dists)
    study.tell(trial, 0.0 + 1e9)  # keep the history at ~1,000
elapsed = (time.perf_counter() - start) / calls * 1000
print(f"latency\tOptuna-TPE\tbranin-1000-trials\t{elapsed:.4f}", flush=True)
