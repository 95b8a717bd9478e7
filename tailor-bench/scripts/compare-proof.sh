#!/usr/bin/env bash
# Proof of `tailor compare` on real data: pre-train a small Llama (the tiny Llama's config) from random weights on
# the State of the Union addresses and Moby-Dick, then compare the default methods on two tasks from it, each with
# the cost model's predictions for this machine beside the measurements:
#   spam   - classification: the spam corpus's train split, its test split held out (accuracy and loss);
#   style  - one president's speeches (all but his last two, which are held out), plain text (loss).
# The president's speeches are left out of pre-training, so the style task is new text to the base.
#
# Usage: compare-proof.sh SHARED_DIR WORK_DIR [PRETRAIN_STEPS] [STEPS]
# Run it on a quiet machine: the predictions are for this machine unloaded, measured afresh by the first comparison. The base is reused when
# WORK_DIR/base exists; each comparison resumes when its output directory exists. The tables are printed and written
# to WORK_DIR/spam/report.md and WORK_DIR/style/report.md.
set -euo pipefail
shared="$(cd "$1" && pwd)"
work="$2"
pretrain_steps="${3:-400}"
steps="${4:-200}"
president="Grover Cleveland"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tailor="$here/tailor"
mkdir -p "$work"

python3 - "$shared" "$work" "$president" <<'PY'
import json, sys
shared, work, president = sys.argv[1], sys.argv[2], sys.argv[3]
speeches = [json.loads(l) for l in open(f"{shared}/data/sotu.jsonl")]
def pieces(text, size=400):
    # about 100 tokens each, cut at a space; each becomes a completion record, so the base learns to end with EOS
    text, out = " ".join(text.split()), []
    while text:
        cut = text.rfind(" ", 0, size) if len(text) > size else len(text)
        cut = cut if cut > 0 else min(size, len(text))
        out.append(text[:cut])
        text = text[cut:].strip()
    return out
with open(f"{work}/pretrain.jsonl", "w") as f:
    docs = [s["text"] for s in speeches if s["president"] != president]
    docs += ["CHAPTER" + c for c in open(f"{shared}/data/moby-dick.txt", encoding="utf-8").read().split("CHAPTER")
             if c.strip()]
    for d in docs:
        for p in pieces(d):
            f.write(json.dumps({"prompt": "", "completion": p}) + "\n")
mails = [json.loads(l) for l in open(f"{shared}/data/spam.jsonl")]
for split, name in (("train", "spam-train"), ("test", "spam-eval")):
    with open(f"{work}/{name}.jsonl", "w") as f:
        for m in mails:
            if m["split"] == split:
                text = ("Subject: " + m.get("subject", "") + "\n" + m["text"])[:240]
                f.write(json.dumps({"text": text, "label": m["label"]}) + "\n")
mine = sorted((s for s in speeches if s["president"] == president), key=lambda s: s["year"])
for name, chosen in (("style-train", mine[:-2]), ("style-eval", mine[-2:])):
    with open(f"{work}/{name}.jsonl", "w") as f:
        for s in chosen:
            for p in pieces(s["text"], 1200):
                f.write(json.dumps({"text": p}) + "\n")
print(f"{president}: {len(mine) - 2} speeches to train on, 2 held out")
PY

if [ ! -f "$work/base/model.safetensors" ]; then
    "$tailor" train --init random --config "$shared/models/tiny-llama/config.json" \
        --tokenizer "$shared/models/tiny-llama" --data "$work/pretrain.jsonl" --format completion \
        --output "$work/base" --steps "$pretrain_steps" --batch-size 8 --seq-len 128 --lr 3e-3 --schedule cosine \
        --warmup-steps 20 --log-every 50 2>&1 | grep -v '^step' || true
fi

"$tailor" compare --model "$work/base" --data "$work/spam-train.jsonl" --eval-data "$work/spam-eval.jsonl" \
    --steps "$steps" --seq-len 128 --reduction-factor 16 --lr full=1e-3 --lr lora=5e-3 --remeasure --output "$work/spam"
"$tailor" compare --model "$work/base" --data "$work/style-train.jsonl" --eval-data "$work/style-eval.jsonl" \
    --steps "$steps" --seq-len 128 --reduction-factor 16 --lr full=1e-3 --lr lora=5e-3 --output "$work/style"
