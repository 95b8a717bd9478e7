"""Regenerates svd-combine-cases.json: reference ΔW of the SVD combination types (svd, ties_svd, dare_linear_svd,
dare_ties_svd, magnitude_prune_svd) for small fixed adapters, computed with torch as PEFT's
LoraModel._svd_generalized_task_arithmetic_weighted_adapter does, with PEFT's fix of huggingface/peft#3111 (each
ΔWᵢ = sᵢ·Bᵢ·Aᵢ, which already holds its scale, is weighted by wᵢ alone) and PEFT's default full_matrices=True:

    U, S, Vh = torch.linalg.svd(ΔW, full_matrices=True)
    U = U[:, :r] @ torch.diag(S[:r]);  Vh = Vh[:r, :]
    hi = torch.quantile(torch.cat([U.flatten(), Vh.flatten()]), clamp);  U, Vh = U.clamp(-hi, hi), Vh.clamp(-hi, hi)

The merges are peft.utils.merge_utils' (task_arithmetic, ties, dare_linear, dare_ties, magnitude_prune), written out
here so that the script needs torch only. DARE's random mask is the one Tailor draws (java.util.SplittableRandom,
seeded per module as LoraCombine seeds it, ported below), since torch.bernoulli's cannot be reproduced in Java; the
rest of DARE is PEFT's.

Each case records:
  "delta":       B·A of PEFT's result, for the cases without clamp: it does not depend on the signs LAPACK gives the
                 singular pairs nor on the singular vectors of zero singular values it picks;
  "canonical":   with a clamp, the quantile does depend on them, so B·A of PEFT's clamp applied to torch's SVD put in
                 Tailor's canonical form (Svd.canonical: singular values <= σ₀·max(m, n)·2⁻²³ count as zero, each
                 pair signed so that its left vector's largest-magnitude entry is positive, the vectors of zero
                 singular values completed axis by axis);
  "lapack":      with a clamp, B·A of PEFT's clamp applied to torch's SVD as LAPACK returns it, for comparison only.

Usage (Debian's python3-torch 1.13, CPU): python3 make_svd_combine_cases.py > svd-combine-cases.json
"""
import json
import math
import sys

import numpy as np
import torch

M64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MODULE = "model.layers.0.mlp.down_proj"


class SplittableRandom:
    """java.util.SplittableRandom(seed): SplitMix64, nextDouble() = (nextLong() >>> 11)·2⁻⁵³."""

    def __init__(self, seed):
        self.seed = seed & M64

    def next_long(self):
        self.seed = (self.seed + GOLDEN_GAMMA) & M64
        z = self.seed
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def next_double(self):
        return (self.next_long() >> 11) * 2.0 ** -53


def java_hash(s):
    h = 0
    for ch in s:
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def module_random(seed, module, tensor):
    """LoraCombine.random: new SplittableRandom(seed·0x9E3779B97F4A7C15 + (module.hashCode()·31 + tensor))."""
    return SplittableRandom(seed * GOLDEN_GAMMA + java_hash(module) * 31 + ord(tensor))


def magnitude_prune_tensor(t, density):
    if density >= 1:
        return t
    mask = torch.zeros_like(t).reshape(-1)
    k = int(density * t.numel())
    mask[torch.topk(t.abs().reshape(-1), k=k, largest=True)[1]] = 1
    return t * mask.reshape(t.shape)


def random_prune_tensors(tasks, density, rnd):
    if density >= 1:
        return tasks
    out = []
    for t in tasks:
        draws = [rnd.next_double() < density for _ in range(t.numel())]
        mask = torch.tensor(draws, dtype=torch.float32).reshape(t.shape)
        out.append(t * mask / density)
    return out


def sign_mask(stacked, method):
    magnitude = stacked.sum(dim=0) if method == "total" else stacked.sign().sum(dim=0)
    return stacked.sign() == torch.where(magnitude >= 0, 1, -1)


def disjoint(stacked, weights, mask):
    weighted = stacked * weights.view(-1, 1, 1)
    return (weighted * mask).sum(dim=0) / torch.clamp(mask.sum(dim=0), min=1.0)


def merge(kind, tasks, weights, density, method, rnd):
    w = torch.tensor(weights, dtype=torch.float32)
    if kind == "svd":
        return (torch.stack(tasks) * w.view(-1, 1, 1)).sum(dim=0)
    if kind == "magnitude_prune_svd":
        pruned = torch.stack([magnitude_prune_tensor(t, density) for t in tasks])
        return (pruned * w.view(-1, 1, 1)).sum(dim=0)
    if kind == "ties_svd":
        pruned = torch.stack([magnitude_prune_tensor(t, density) for t in tasks])
        return disjoint(pruned, w, sign_mask(pruned, method))
    pruned = torch.stack(random_prune_tensors(tasks, density, rnd))
    if kind == "dare_linear_svd":
        return (pruned * w.view(-1, 1, 1)).sum(dim=0)
    return disjoint(pruned, w, sign_mask(pruned, method))


def complete(vs, n, count):
    """Svd.complete: the next vectors are the axes with the largest residual, orthogonalised twice, normalised."""
    vs = list(vs)
    while len(vs) < count:
        residual = np.ones(n)
        for v in vs:
            residual = residual - v * v
        axis = 0
        for i in range(1, n):
            if residual[i] > residual[axis]:
                axis = i
        e = np.zeros(n)
        e[axis] = 1
        for _ in range(2):
            for v in vs:
                e = e - np.dot(v, e) * v
        vs.append(e / math.sqrt(np.dot(e, e)))
    return vs


def canonical(u, s, vh, r):
    """Svd.canonical on torch's SVD: B = U·diag(S) [m, r] and A = Vᵀ [r, n] as float32."""
    m, n = u.shape[0], vh.shape[1]
    u, s, vh = u.double().numpy(), s.double().numpy(), vh.double().numpy()
    cut = max(m, n) * 2.0 ** -23 * s[0]
    kept = 0
    while kept < r and s[kept] > cut:
        kept += 1
    left, right = [], []
    for c in range(kept):
        lc, rc = u[:, c].copy(), vh[c, :].copy()
        largest = 0
        for i in range(1, m):
            if abs(lc[i]) > abs(lc[largest]):
                largest = i
        if lc[largest] < 0:
            lc, rc = -lc, -rc
        left.append(lc)
        right.append(rc)
    left, right = complete(left, m, r), complete(right, n, r)
    sk = np.concatenate([s[:kept], np.zeros(r - kept)])
    b = np.stack(left, axis=1) * sk
    a = np.stack(right, axis=0)
    return torch.tensor(b, dtype=torch.float32), torch.tensor(a, dtype=torch.float32)


def clamp(b, a, q):
    hi = torch.quantile(torch.cat([b.flatten(), a.flatten()]), q)
    return b.clamp(-hi, hi), a.clamp(-hi, hi)


def values(rng, shape):
    """Inputs with four decimals, read the same way on both sides (decimal → double → float32)."""
    return np.round(rng.uniform(-1, 1, size=shape), 4)


def case(name, out, inp, adapters, weights, kind, rank, density=None, method="total", clamp_q=None, seed=0):
    rng = np.random.RandomState(sum(map(ord, name)))
    pairs, deltas = [], []
    for r, alpha, rslora in adapters:
        a = values(rng, (r, inp))
        b = values(rng, (out, r))
        scale = alpha / math.sqrt(r) if rslora else alpha / r
        pairs.append({"r": r, "alpha": alpha, "rslora": rslora, "A": a.reshape(-1).tolist(),
                      "B": b.reshape(-1).tolist()})
        # get_delta_weight: (B @ A) * scaling, in float32
        deltas.append((torch.tensor(b, dtype=torch.float32) @ torch.tensor(a, dtype=torch.float32)) * scale)
    rnd = module_random(seed, MODULE, "W")
    merged = merge(kind, deltas, weights, density, method, rnd)
    u, s, vh = torch.linalg.svd(merged, full_matrices=True)
    k = min(rank, out, inp)
    b_peft, a_peft = u[:, :k] @ torch.diag(s[:k]), vh[:k, :]
    record = {"name": name, "module": MODULE, "out": out, "in": inp, "adapters": pairs, "weights": weights,
              "type": kind, "density": density, "majority_sign_method": method, "svd_rank": rank,
              "svd_clamp": clamp_q, "seed": seed,
              "singular_values": [float("%.8g" % x) for x in s.tolist()]}
    if clamp_q is None:
        record["delta"] = flat(b_peft @ a_peft)
    else:
        b, a = clamp(b_peft, a_peft, clamp_q)
        record["lapack"] = flat(b @ a)
        b, a = clamp(*canonical(u, s, vh, k), clamp_q)
        record["canonical"] = flat(b @ a)
    return record


def flat(t):
    return [float("%.7g" % x) for x in t.double().reshape(-1).tolist()]


def main():
    torch.set_num_threads(1)
    two = [(2, 4, False), (3, 6, True)]
    three = [(2, 4, False), (3, 6, True), (2, 8, False)]
    big = [(4, 8, False), (4, 4, True), (2, 4, False)]
    cases = [
        case("svd_rank3", 10, 16, two, [0.7, -0.4], "svd", 3),
        case("svd_clamp_rank_above_rank_of_delta", 10, 16, [(2, 4, False), (2, 2, False)], [1.0, 0.5], "svd", 8,
             clamp_q=0.9),
        case("svd_clamp_every_triplet", 16, 10, [(1, 2, False), (1, 1, False)], [1.0, 1.0], "svd", 10,
             clamp_q=0.95),
        case("ties_svd_rank3", 10, 16, three, [0.6, 0.8, -0.5], "ties_svd", 3, density=0.5),
        case("ties_svd_clamp", 10, 16, three, [0.6, 0.8, -0.5], "ties_svd", 4, density=0.5, method="frequency",
             clamp_q=0.9),
        case("dare_linear_svd", 10, 16, three, [0.6, 0.8, -0.5], "dare_linear_svd", 4, density=0.6, seed=7),
        case("dare_ties_svd", 10, 16, three, [0.6, 0.8, -0.5], "dare_ties_svd", 5, density=0.6,
             method="frequency", seed=3),
        case("magnitude_prune_svd", 10, 16, three, [0.6, 0.8, -0.5], "magnitude_prune_svd", 6, density=0.5),
        case("magnitude_prune_svd_every_triplet", 16, 10, three, [0.6, 0.8, -0.5], "magnitude_prune_svd", 10,
             density=0.5),
        case("ties_svd_rank18", 24, 40, [(4, 8, False), (4, 4, True), (2, 4, False)], [0.9, 0.6, -0.7], "ties_svd",
             18, density=0.4),
        # min(out, in) > svd_rank + 10: where Tailor used to take a randomized range finder
        case("ties_svd_40x72_rank4", 40, 72, big, [0.9, 0.6, -0.7], "ties_svd", 4, density=0.3),
        case("dare_ties_svd_40x72_rank16", 40, 72, big, [0.9, 0.6, -0.7], "dare_ties_svd", 16, density=0.5,
             seed=11),
        case("magnitude_prune_svd_40x72_rank22", 40, 72, big, [0.9, 0.6, -0.7], "magnitude_prune_svd", 22,
             density=0.4),
        case("magnitude_prune_svd_clamp_rank_above_rank_of_delta", 10, 16, two, [1.0, 0.5], "magnitude_prune_svd",
             9, density=1.0, clamp_q=0.8),
    ]
    json.dump({"generator": "make_svd_combine_cases.py", "torch": torch.__version__, "cases": cases}, sys.stdout,
              separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
