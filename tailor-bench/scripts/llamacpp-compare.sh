#!/usr/bin/env bash
# Tailor beside llama.cpp on the reference shape, in one run: decode and prefill for each weight type, Tailor and the
# llama.cpp peer taking turns (ROUNDS rounds, so a noisy phase of the machine falls on both), then a table of the
# medians and their ratios. Every RESULT line is kept in OUT_DIR/results.jsonl.
#
# Usage: llamacpp-compare.sh SHARED_DIR OUT_DIR [ROUNDS] [DTYPE ...]
# DTYPEs default to F32 BF16 Q8_0 Q4_0. Run it on a quiet machine (check `uptime`); the peer's first use sets up
# node-llama-cpp from the npm registry (see SHARED_DIR/peers/llamacpp_peer.sh).
set -euo pipefail
shared="$(cd "$1" && pwd)"
out="$2"
rounds="${3:-3}"
shift $(( $# < 3 ? $# : 3 ))
dtypes=("$@")
if [ ${#dtypes[@]} -eq 0 ]; then
    dtypes=(F32 BF16 Q8_0 Q4_0)
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tailor="$here/tailor"
peer="$shared/peers/llamacpp_peer.sh"
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"

keep() { grep '^RESULT ' | sed 's/^RESULT //' | tee -a "$results" >/dev/null; }

"$tailor" bench machine 2>/dev/null | keep
for round in $(seq "$rounds"); do
    for dtype in "${dtypes[@]}"; do
        "$tailor" bench decode --dtype "$dtype" 2>/dev/null | keep
        "$peer" decode --threads 2 --dtype "$dtype" 2>/dev/null | keep
        "$tailor" bench prefill --dtype "$dtype" --seq 256 2>/dev/null | keep
        "$peer" prefill --threads 2 --seq 256 --dtype "$dtype" 2>/dev/null | keep
    done
    echo "round $round of $rounds done (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
machine = next((r for r in rows if r.get("mode") == "machine"), {})
print(f"CPU: {next((r['cpu'] for r in rows if 'cpu' in r), 'unknown')}; FMA peak {machine.get('fma_peak_gflops')} "
      f"GFLOP/s, stream read {machine.get('stream_read_gb_per_s')} GB/s")
print("| benchmark | dtype | Tailor (median, range) | llama.cpp (median, range) | ratio |")
print("|---|---|---|---|---|")
def key(r):
    return "decode_tokens_per_s" if r["mode"] == "decode" else "tokens_per_s"
for mode in ("decode", "prefill"):
    for dtype in dict.fromkeys(r.get("dtype") for r in rows if r.get("mode") == mode):
        got = {}
        for impl in ("tailor", "llama.cpp"):
            vals = [r[key(r)] for r in rows if r.get("mode") == mode and r.get("dtype") == dtype
                    and r.get("impl") == impl and key(r) in r]
            got[impl] = vals
        t, p = got["tailor"], got["llama.cpp"]
        if not t or not p:
            continue
        fmt = lambda v: f"{statistics.median(v):,.0f} ({min(v):,.0f}–{max(v):,.0f})"
        print(f"| {mode} tokens/s | {dtype} | {fmt(t)} | {fmt(p)} | {statistics.median(t) / statistics.median(p):.2f}x |")
PY
