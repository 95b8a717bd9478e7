#!/usr/bin/env bash
# Proof on real data: pre-train a small Llama from scratch on the State of the Union addresses (all but one
# president's) and Moby-Dick for a bounded number of steps, then fine-tune it fully and partially on that
# president's speeches and compare the loss on his held-out speeches before and after.
#
# Usage: real-data-proof.sh SHARED_DIR WORK_DIR [PRETRAIN_STEPS] [FINETUNE_STEPS]
# SHARED_DIR is the shared/ folder (data/ and models/tiny-llama for the Llama-2 tokenizer).
set -euo pipefail
shared="$(cd "$1" && pwd)"
work="$2"
pretrain_steps="${3:-300}"
finetune_steps="${4:-60}"
president="Grover Cleveland"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tailor="$here/tailor"
mkdir -p "$work"

python3 - "$shared" "$work" "$president" <<'PY'
import json, sys
shared, work, president = sys.argv[1], sys.argv[2], sys.argv[3]
speeches = [json.loads(l) for l in open(f"{shared}/data/sotu.jsonl")]
mine = sorted((s for s in speeches if s["president"] == president), key=lambda s: s["year"])
def chunks(text, size=1200):
    out, cur = [], ""
    for sentence in text.replace("\n", " ").split(". "):
        if len(cur) + len(sentence) > size and cur:
            out.append(cur.strip()); cur = ""
        cur += sentence + ". "
    if cur.strip():
        out.append(cur.strip())
    return out
with open(f"{work}/pretrain.jsonl", "w") as f:
    for s in speeches:
        if s["president"] != president:
            f.write(json.dumps({"text": s["text"]}) + "\n")
    for chapter in open(f"{shared}/data/moby-dick.txt", encoding="utf-8").read().split("CHAPTER"):
        if chapter.strip():
            f.write(json.dumps({"text": "CHAPTER" + chapter}) + "\n")
with open(f"{work}/president-train.jsonl", "w") as f:
    for s in mine[:-2]:
        f.write(json.dumps({"text": s["text"]}) + "\n")
with open(f"{work}/president-eval.jsonl", "w") as f:
    for s in mine[-2:]:
        for c in chunks(s["text"]):
            f.write(json.dumps({"text": c}) + "\n")
print(f"{president}: {len(mine) - 2} speeches to fine-tune on, {len(mine[-2:])} held out "
      f"({sum(1 for _ in open(f'{work}/president-eval.jsonl'))} eval chunks)")
PY

cat > "$work/config.json" <<'JSON'
{"model_type": "llama", "hidden_size": 192, "intermediate_size": 512, "num_hidden_layers": 4,
 "num_attention_heads": 6, "num_key_value_heads": 2, "vocab_size": 32000, "max_position_embeddings": 512,
 "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2,
 "torch_dtype": "float32"}
JSON

eval_loss() { "$tailor" eval --model "$1" --data "$work/president-eval.jsonl" --json 2>/dev/null; }

"$tailor" train --init random --config "$work/config.json" --tokenizer "$shared/models/tiny-llama" \
    --data "$work/pretrain.jsonl" --eval-split 0.02 --output "$work/base" --steps "$pretrain_steps" \
    --batch-size 8 --seq-len 256 --lr 2e-3 --schedule cosine --warmup-steps 20 --weight-decay 0.01 --log-every 10
echo "base on held-out $president: $(eval_loss "$work/base")"

"$tailor" train --model "$work/base" --data "$work/president-train.jsonl" --eval-data "$work/president-eval.jsonl" \
    --output "$work/full" --steps "$finetune_steps" --batch-size 8 --seq-len 256 --lr 5e-4 --schedule cosine \
    --log-every 10
echo "full fine-tuning on held-out $president: $(eval_loss "$work/full")"

"$tailor" train --model "$work/base" --data "$work/president-train.jsonl" --eval-data "$work/president-eval.jsonl" \
    --output "$work/partial" --steps "$finetune_steps" --batch-size 8 --seq-len 256 --lr 1e-3 --schedule cosine \
    --method partial --train-layers 2-3 --log-every 10
echo "partial (layers 2-3) on held-out $president: $(eval_loss "$work/partial")"

"$tailor" train --model "$work/base" --data "$work/president-train.jsonl" --eval-data "$work/president-eval.jsonl" \
    --output "$work/bitfit" --steps "$finetune_steps" --batch-size 8 --seq-len 256 --lr 1e-2 --schedule cosine \
    --method partial --bias-norm-only --log-every 10
echo "norms only (BitFit) on held-out $president: $(eval_loss "$work/bitfit")"
