#!/usr/bin/env bash
# QLoRA-style proof on real data: the spam task of ../shared/data as spam-proof.sh prepares it (its small base
# pre-trained from scratch, reused when WORK_DIR/base exists), LoRA for the same budget of steps on the F32 base and
# on that base quantized at load to Q8_0 and Q4_0 (`--quantize`), each adapter then evaluated on the F32 base it
# applies to (the fingerprint is the base's, whatever it was trained on). Reports per base: eval loss and accuracy on
# the corpus's test split (measured by the run on its own base), the F32 base's accuracy with the adapter, seconds
# per step, peak RSS (whole process) and the highest RSS sampled while training.
#
# Usage: qlora-proof.sh SHARED_DIR WORK_DIR [PRETRAIN_STEPS] [STEPS]
set -euo pipefail
shared="$(cd "$1" && pwd)"
work="$2"
pretrain_steps="${3:-400}"
steps="${4:-400}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tailor="$here/../../tailor"
export TAILOR_JAVA_OPTS="${TAILOR_JAVA_OPTS:--Xmx1536m}"
mkdir -p "$work"
# The data, the base and the F32 LoRA run, exactly as spam-proof.sh makes them.
"$here/spam-proof.sh" "$shared" "$work" "$pretrain_steps" "$steps" lora > "$work/spam-proof.log"
rm -rf "$work/lora-F32"
mv "$work/lora" "$work/lora-F32"
grep '^done:' "$work/spam-proof.log" | tail -1 > "$work/lora-F32.log"

results="$work/qlora.md"
{
    echo "| base | eval loss | test accuracy | applied to the F32 base: loss, accuracy | s/step | peak RSS, MiB | RSS while training, MiB |"
    echo "|---|---|---|---|---|---|---|"
} > "$results"
for type in F32 Q8_0 Q4_0; do
    out="$work/lora-$type"
    if [ "$type" != F32 ]; then
        rm -rf "$out"
        "$tailor" train --model "$work/base" --quantize "$type" --data "$work/spam-train.jsonl" \
            --eval-data "$work/spam-test.jsonl" --format classification --output "$out" --steps "$steps" \
            --batch-size 8 --seq-len 384 --schedule cosine --warmup-steps 10 --log-every 10 \
            --method lora --r 8 --lora-alpha 16 --target-modules all-linear --lr 2e-3 2>&1 | grep -v '^step' \
            > "$work/lora-$type.log"
    fi
    done_line=$(grep '^done:' "$work/lora-$type.log" | tail -1)
    n=$(echo "$done_line" | sed -n 's/^done: \([0-9]*\) steps in \([0-9.]*\) s.*/\1/p')
    secs=$(echo "$done_line" | sed -n 's/^done: \([0-9]*\) steps in \([0-9.]*\) s.*/\2/p')
    peak=$(echo "$done_line" | sed -n 's/.*peak RSS \([0-9]*\) MiB.*/\1/p')
    rss=$(python3 -c 'import json,sys; print(round(max(json.loads(l)["rss_mib"] for l in open(sys.argv[1]) if "rss_mib" in l)))' "$out/metrics.jsonl")
    loss=$(echo "$done_line" | sed -n 's/.*eval loss \([0-9.]*\).*/\1/p')
    acc=$(echo "$done_line" | sed -n 's/.*eval accuracy \([0-9.]*\).*/\1/p')
    on_f32=$("$tailor" eval --model "$work/base" --adapter "$out" --data "$work/spam-test.jsonl" --json)
    f32=$(echo "$on_f32" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.4f, %.3f" % (r["loss"], r["accuracy"]))')
    step=$(python3 -c "print(round($secs / $n, 3))")
    echo "| $type | $loss | $acc | $f32 | $step | $peak | $rss |" >> "$results"
done
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$results"
cat "$results"
