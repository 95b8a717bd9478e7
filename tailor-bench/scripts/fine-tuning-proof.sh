#!/usr/bin/env bash
# Proof of fine-tuning as a service: pre-train a small Llama (7.7M parameters, the tiny Llama's tokenizer; the base of
# spam-proof.sh) from scratch on ../shared/data (State of the Union addresses but George Washington's, Moby-Dick and the
# spam corpus's unlabelled train split), serve it with --fine-tuning on a PostgreSQL registry, start two `tailor worker`
# processes at niceness 10 on one kernel thread each, and through the API only: two tenants upload their data and
# fine-tune (mailguard: spam or ham, a classification of the spam corpus's mails; washington: George Washington's
# addresses, continued pre-training); each tenant's model answers otherwise than the base; a second washington job is
# rolled out as a canary (its traffic split shown), promoted, then rolled back; a worker is killed with kill -9 in the
# middle of a mailguard job, which the other worker takes over and finishes. Serving latency (16-token completions of
# the base) is measured idle and while both workers train.
#
# Usage: TAILOR_DATABASE_URL=jdbc:postgresql://HOST:PORT/DB?user=U&password=P fine-tuning-proof.sh SHARED_DIR WORK_DIR
# The base is reused when WORK_DIR/base exists; the registry (state directory and database schema) is made afresh.
# A summary is printed at the end and written to WORK_DIR/results.md.
set -euo pipefail
shared="$(cd "$1" && pwd)"
work="$2"
if [ -z "${TAILOR_DATABASE_URL:-}" ]; then
    echo "set TAILOR_DATABASE_URL to a PostgreSQL database: two workers share it" >&2
    exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tailor="$here/tailor"
mkdir -p "$work"

python3 - "$shared" "$work" <<'PY'
import json, random, sys
shared, work = sys.argv[1], sys.argv[2]
def pieces(text, size=800):
    text = " ".join(text.split())
    return [text[i:i + size] for i in range(0, len(text), size) if len(text[i:i + size]) > 200]
speeches = [json.loads(l) for l in open(f"{shared}/data/sotu.jsonl")]
mails = [json.loads(l) for l in open(f"{shared}/data/spam.jsonl")]
def mail(m):
    return ("Subject: " + m.get("subject", "") + "\n" + m["text"]).encode("ascii", "replace").decode("ascii")[:300]
with open(f"{work}/pretrain.jsonl", "w") as f:
    docs = [s["text"] for s in speeches if s["president"] != "George Washington"]
    docs += ["CHAPTER" + c for c in open(f"{shared}/data/moby-dick.txt", encoding="utf-8").read().split("CHAPTER")]
    docs += [mail(m) for m in mails if m["split"] == "train"]
    for d in docs:
        for p in pieces(d):
            f.write(json.dumps({"text": p}) + "\n")
washington = [s for s in speeches if s["president"] == "George Washington"]
for name, chosen in (("washington-train", washington[:-1]), ("washington-valid", washington[-1:])):
    with open(f"{work}/{name}.jsonl", "w") as f:
        for s in chosen:
            for p in pieces(s["text"]):
                f.write(json.dumps({"text": p}) + "\n")
rnd = random.Random(1)
def balanced(split, n):
    spam = [m for m in mails if m["split"] == split and m["label"] == "spam"]
    ham = [m for m in mails if m["split"] == split and m["label"] == "ham"]
    rnd.shuffle(spam)
    rnd.shuffle(ham)
    chosen = spam[:n // 2] + ham[:n // 2]
    rnd.shuffle(chosen)
    return chosen
for name, chosen in (("spam-train", balanced("train", 800)), ("spam-valid", balanced("test", 100))):
    with open(f"{work}/{name}.jsonl", "w") as f:
        for m in chosen:
            f.write(json.dumps({"text": mail(m), "label": m["label"]}) + "\n")
PY

cat > "$work/config.json" <<'JSON'
{"model_type": "llama", "hidden_size": 192, "intermediate_size": 512, "num_hidden_layers": 4,
 "num_attention_heads": 6, "num_key_value_heads": 2, "vocab_size": 32000, "max_position_embeddings": 512,
 "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2,
 "torch_dtype": "float32"}
JSON
if [ ! -f "$work/base/model.safetensors" ]; then
    "$tailor" train --init random --config "$work/config.json" --tokenizer "$shared/models/tiny-llama" \
        --data "$work/pretrain.jsonl" --format text --eval-split 0.01 --output "$work/base" --steps 600 \
        --batch-size 8 --seq-len 256 --lr 3e-3 --schedule cosine --warmup-steps 30 --weight-decay 0.01 \
        --log-every 50 2>&1 | grep -v '^step' || true
fi

exec python3 - "$tailor" "$work" <<'PY'
import json, os, re, signal, statistics, subprocess, sys, time, urllib.error, urllib.request, uuid
tailor, work = sys.argv[1], sys.argv[2]
admin = uuid.uuid4().hex
state = f"{work}/state"
subprocess.run(["rm", "-rf", state], check=True)
url = os.environ["TAILOR_DATABASE_URL"]
schema = "proof_" + uuid.uuid4().hex[:12]
env = dict(os.environ, TAILOR_ADMIN_KEY=admin,
           TAILOR_DATABASE_URL=url + ("&" if "?" in url else "?") + "currentSchema=" + schema)
m = re.fullmatch(r"jdbc:postgresql://([^/?:]+)(?::(\d+))?/([^?]+)\??(.*)", url)
params = dict(p.split("=", 1) for p in m.group(4).split("&") if p)
psql = ["psql", "-h", m.group(1), "-p", m.group(2) or "5432", "-U", params.get("user", os.environ.get("USER", "")),
        "-d", m.group(3), "-q", "-c"]
psql_env = dict(os.environ, PGPASSWORD=params.get("password", ""))
subprocess.run(psql + [f"CREATE SCHEMA {schema}"], env=psql_env, check=True)
log = open(f"{work}/serve.log", "w")
serve = subprocess.Popen([tailor, "serve", "--model", f"{work}/base", "--served-model-name", "tiny", "--port", "0",
                          "--state", state, "--fine-tuning"], env=env, stdout=log, stderr=log)
workers, procs = {}, []
def start_worker(name):
    out = open(f"{work}/worker-{name}.log", "w")
    p = subprocess.Popen(["nice", "-n", "10", tailor, "worker", "--model", f"{work}/base", "--state", state, "--id",
                          name, "--threads", "1", "--lease", "5"], env=env, stdout=out, stderr=out)
    workers[name] = p
    procs.append(p)
port = None
for _ in range(600):
    m = re.search(r"at http://127\.0\.0\.1:(\d+)/v1", open(f"{work}/serve.log").read())
    if m:
        port = int(m.group(1))
        break
    time.sleep(0.2)
assert port, open(f"{work}/serve.log").read()
base_url = f"http://127.0.0.1:{port}"
results = []
def say(line=""):
    print(line, flush=True)
    results.append(line)

def call(method, path, body=None, key=admin, raw=None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base_url + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    if raw is None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: {e.code} {e.read().decode()}")

def upload(path, key):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n--{boundary}\r\n"
            f"Content-Disposition: form-data; name=\"file\"; filename=\"{os.path.basename(path)}\"\r\n\r\n").encode()
    body += open(path, "rb").read() + f"\r\n--{boundary}--\r\n".encode()
    return call("POST", "/v1/files", raw=body, key=key,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})

def complete(model, prompt, key, tokens=16, user=None):
    body = {"model": model, "prompt": prompt, "max_tokens": tokens, "temperature": 0}
    if user:
        body["user"] = user
    return call("POST", "/v1/completions", body, key=key)["choices"][0]["text"]

def latency(n=25):
    ms = []
    for _ in range(n):
        t0 = time.perf_counter()
        complete("tiny", "It is the duty of the government", admin)
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    return statistics.median(ms), ms[int(0.9 * (n - 1))]

def events(job, key):
    return list(reversed(call("GET", f"/v1/fine_tuning/jobs/{job}/events?limit=1000", key=key)["data"]))

def wait(job, key, status="succeeded", timeout=3600):
    t0 = time.time()
    while True:
        j = call("GET", f"/v1/fine_tuning/jobs/{job}", key=key)
        if j["status"] in ("succeeded", "failed", "cancelled"):
            assert j["status"] == status, j
            return j
        assert time.time() - t0 < timeout, j
        time.sleep(1)

def steps(job, key):
    s = [e["data"] for e in events(job, key) if e["type"] == "metrics" and "train_loss" in (e["data"] or {})]
    assert [d["step"] for d in s] == list(range(1, len(s) + 1)), "each step once, in order"
    return s

try:
    for _ in range(10):
        complete("tiny", "warm up", admin)
    idle = latency()
    start_worker("w1")
    start_worker("w2")
    mail_key = call("POST", "/v1/tenants", {"name": "mailguard"})["api_key"]
    wash_key = call("POST", "/v1/tenants", {"name": "washington"})["api_key"]
    spam_train, spam_valid = upload(f"{work}/spam-train.jsonl", mail_key), upload(f"{work}/spam-valid.jsonl", mail_key)
    wash_train = upload(f"{work}/washington-train.jsonl", wash_key)
    wash_valid = upload(f"{work}/washington-valid.jsonl", wash_key)
    say(f"files: mailguard {spam_train['examples']} {spam_train['format']} examples ({spam_train['tokens']} tokens), "
        f"washington {wash_train['examples']} {wash_train['format']} examples ({wash_train['tokens']} tokens)")
    mail_spec = {"model": "tiny", "training_file": spam_train["id"], "validation_file": spam_valid["id"],
                 "suffix": "spam", "seed": 1, "training": {"seq_len": 160, "checkpoint_every": 20},
                 "method": {"type": "supervised", "supervised": {"hyperparameters": {
                     "n_epochs": 3, "batch_size": 8, "learning_rate_multiplier": 10}}}}
    wash_spec = {"model": "tiny", "training_file": wash_train["id"], "validation_file": wash_valid["id"],
                 "suffix": "washington", "seed": 1, "training": {"seq_len": 256, "checkpoint_every": 20},
                 "hyperparameters": {"n_epochs": 3, "batch_size": 8, "learning_rate_multiplier": 25}}
    mail_job = call("POST", "/v1/fine_tuning/jobs", mail_spec, key=mail_key)["id"]
    wash_job = call("POST", "/v1/fine_tuning/jobs", wash_spec, key=wash_key)["id"]
    while not any(e["type"] == "metrics" for e in events(wash_job, wash_key)):
        time.sleep(0.5)
    busy = latency()
    say(f"serving latency, 16-token completions of the base: median {idle[0]:.0f} ms (p90 {idle[1]:.0f}) idle, "
        f"{busy[0]:.0f} ms (p90 {busy[1]:.0f}) while two workers train (1 thread each, niceness 10)")
    for job, key, name in ((mail_job, mail_key, "mailguard"), (wash_job, wash_key, "washington")):
        j = wait(job, key)
        s = steps(job, key)
        ev = [e for e in events(job, key) if e["message"].startswith("Evaluated")]
        say(f"{name}: {j['fine_tuned_model']} in {len(s)} steps, {j['trained_tokens']} tokens, train loss "
            f"{s[0]['train_loss']:.3f} -> {s[-1]['train_loss']:.3f}, {ev[-1]['message']}")
    for name, data in (("mailguard", "spam-valid"), ("washington", "washington-valid")):
        base = json.loads(subprocess.run([tailor, "eval", "--model", f"{work}/base", "--data", f"{work}/{data}.jsonl",
                                          "--json"], check=True, capture_output=True, text=True).stdout)
        say(f"{name}: the base on the same validation file: loss {base['loss']:.4f}"
            + (f", accuracy {base['accuracy']}" if "accuracy" in base else ""))
    probes = [json.loads(l) for l in open(f"{work}/spam-valid.jsonl")][:40]
    say("mailguard's model against the base, greedy, on 40 held-out mails (half of them spam):")
    for model in ("tiny", "spam"):
        said = [complete(model, p["text"] + "\nLabel: ", mail_key, 2) for p in probes]
        right = sum(s.strip().startswith(p["label"]) for s, p in zip(said, probes))
        say(f"  {model}: {right}/40 answered with the right label; first answers {said[:4]!r}")
    opening = "Fellow-Citizens of the Senate and House of Representatives:"
    say(f"washington's model against the base, greedy, after {opening!r}:")
    say(f"  base: {complete('tiny', opening, wash_key, 40)!r}")
    say(f"  washington@1: {complete('washington', opening, wash_key, 40)!r}")

    canary_spec = dict(wash_spec, seed=2, hyperparameters={"n_epochs": 6, "batch_size": 8,
                                                           "learning_rate_multiplier": 25}, rollout={"canary": 0.2})
    canary = call("POST", "/v1/fine_tuning/jobs", canary_spec, key=wash_key)["id"]
    kill_spec = dict(mail_spec, seed=2, method={"type": "supervised", "supervised": {"hyperparameters": {
        "n_epochs": 1, "batch_size": 8, "learning_rate_multiplier": 10}}}, rollout={"promote": False})
    killed = call("POST", "/v1/fine_tuning/jobs", kill_spec, key=mail_key)["id"]
    while max([e["data"]["step"] for e in events(killed, mail_key) if e["type"] == "metrics"] or [0]) < 30:
        time.sleep(0.2)
    victim = next(e["message"].split()[-1] for e in events(killed, mail_key) if e["message"].startswith("Fine-tuning "
                                                                                                      "job started"))
    last = max(e["data"]["step"] for e in events(killed, mail_key) if e["type"] == "metrics")
    os.kill(workers[victim].pid, signal.SIGKILL)
    killed_at = time.time()
    workers[victim].wait()
    j = wait(killed, mail_key)
    ev = events(killed, mail_key)
    took = next(e for e in ev if "took the job over" in e["message"])
    resumed = next(e for e in ev if e["message"].startswith("Resumed"))
    s = steps(killed, mail_key)
    say(f"worker kill: {victim} killed (kill -9) after step {last} of {s[-1]['total_steps']} of {killed}; "
        f"'{took['message']}' {took['created_at'] - killed_at:+.0f} s after the kill (lease 5 s), "
        f"'{resumed['message']}'; {len(s)} steps told, each once; {j['status']} as {j['fine_tuned_model']}")
    j = wait(canary, wash_key)
    info = call("GET", "/v1/adapters/washington", key=wash_key)
    rollout = [e["message"] for e in events(canary, wash_key) if e["message"].startswith(("Gave", "Kept"))]
    say(f"canary: {j['fine_tuned_model']}: {rollout[-1]}; split {info['traffic']['versions']}")
    served = [complete("washington", opening, wash_key, 12, user=f"citizen-{i}") for i in range(50)]
    two = complete("washington@2", opening, wash_key, 12)
    say(f"  of 50 users, {sum(t == two for t in served)} were served washington@2")
    call("DELETE", "/v1/adapters/washington/traffic")
    call("POST", "/v1/adapters/washington/aliases/prod", {"version": 2})
    promoted = complete("washington", opening, wash_key, 12)
    back = call("POST", "/v1/adapters/washington/rollback", key=wash_key)
    say(f"promotion of washington@2 by the admin, then the tenant's rollback: prod is version {back['version']} "
        f"again; answers {promoted!r} -> {complete('washington', opening, wash_key, 12)!r}")
finally:
    for p in procs + [serve]:
        if p.poll() is None:
            p.terminate()
    for p in procs + [serve]:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
    subprocess.run(psql + [f"DROP SCHEMA {schema} CASCADE"], env=psql_env, check=False)
    with open(f"{work}/results.md", "w") as f:
        f.write("\n".join(results) + "\n")
PY
