#!/usr/bin/env bash
# Kill anywhere, resume exactly: runs a short training recipe (bench/kill-resume/train.csx: two stages, a checkpoint every
# 6 steps) straight through, then N times starts it afresh, kills it with SIGKILL — at a moment drawn uniformly over the
# straight run's length, or (every third and every fifth trial) the instant a checkpoint is being written or the first
# stage has just finished — and runs the same command again until it completes; then compares the final weights, the
# optimizer state, the exports and every metric (loss, learning rate, gradient norm, evaluation) with the straight run,
# bit for bit. The same for the data factory: `ziya2 data run` of the rules and deduplication (partitioned rounds,
# a persistent index) over 8 shards, killed at random moments and resumed, against the straight run's output bytes
# (kept and rejected documents, every step's counts). Usage: bench/kill-resume.sh [N] (default 30).
# ZIYA2="dotnet path/to/ziya2.dll" runs a given build instead of building Release here.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-30}"
if [ -z "${ZIYA2:-}" ]; then
  dotnet build -c Release src/Ziya2.Cli -v q -nologo >/dev/null
  ZIYA2="$PWD/src/Ziya2.Cli/bin/Release/net10.0/ziya2"
fi
work="${TMPDIR:-/tmp}/ziya2-kill-resume"; rm -rf "$work"; mkdir -p "$work"
export CI=true ZIYA2_CACHE_DIR="$work/cache"
python3 - "$n" "$work" "$ZIYA2" <<'PY'
import glob, hashlib, json, os, random, signal, subprocess, sys, time
n, work, ziya2 = int(sys.argv[1]), sys.argv[2], sys.argv[3].split()
repo = os.getcwd()
rng = random.Random(20261203)

def train_command(run):
    return ziya2 + ["run", f"{repo}/bench/kill-resume/train.csx", "-c", f"{repo}/bench/kill-resume/train.toml", "--run-dir", run, "--log-level", "Warning"]

def factory_command(out):
    # The rules, then deduplication — a corpus step whose decision runs in partitioned rounds — with its index per run.
    return ziya2 + ["data", "run", f"{repo}/recipes/pipelines/ziya2.toml", "--pipeline", "rf,cd", "--input", f"{work}/shards", "--output", out,
                    "--set", f"filters.dedup.index=\"{out}-index\"", "--log-level", "Warning"]

def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0: sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")

def digest(paths):
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(os.path.relpath(path, paths[0].split("/checkpoints/")[0] if "/checkpoints/" in paths[0] else os.path.dirname(path)).encode())
        h.update(open(path, "rb").read())
    return h.hexdigest()

def training_state(run):
    """What must be identical: the last stage's final weights and optimizer, the exports, every metric but timings."""
    final = f"{run}/checkpoints/second-final"
    files = sorted(glob.glob(f"{final}/model/*") + [f"{final}/optimizer.bin", f"{final}/state.json"])
    exports = sorted(glob.glob(f"{run}/exports/*/*"))
    metrics = {}
    for line in open(f"{run}/metrics.jsonl"):
        try: r = json.loads(line)
        except json.JSONDecodeError: continue   # a line torn by the kill; its step is logged again on resume
        metrics[(r["event"], r["step"])] = {k: r[k] for k in ("loss", "lr", "grad_norm", "heldout") if k in r}   # the later value wins, as reports read it
    return {"checkpoint": {os.path.relpath(f, run): hashlib.sha256(open(f, "rb").read()).hexdigest() for f in files},
            "exports": {os.path.relpath(f, run): hashlib.sha256(open(f, "rb").read()).hexdigest() for f in exports},
            "metrics": sorted(metrics.items())}

def factory_state(out):
    files = sorted(f for f in glob.glob(f"{out}/**/*", recursive=True) if os.path.isfile(f) and ("/kept/" in f or "/rejected/" in f))
    counts = [(name, s["name"], s["input"], s.get("kept"), s.get("dropped"))
              for name in ("rf", "cd") for s in json.load(open(f"{out}/{name}/stats.json"))["steps"]]
    return {"files": {os.path.relpath(f, out): hashlib.sha256(open(f, "rb").read()).hexdigest() for f in files}, "counts": counts}

def kill_when(cmd, moment):
    """Starts cmd and SIGKILLs it at `moment`: seconds, or a predicate polled every half millisecond."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    while p.poll() is None:
        if (moment(time.monotonic() - start) if callable(moment) else time.monotonic() - start >= moment):
            p.send_signal(signal.SIGKILL); p.wait(); return True
        time.sleep(0.0005)
    return False   # it finished first

def writing_checkpoint(run):
    return lambda _: bool(glob.glob(f"{run}/checkpoints/.tmp-*"))

def past_first_stage(run):
    return lambda _: os.path.exists(f"{run}/checkpoints/first-final/state.json")

# --- training ---
straight = f"{work}/straight"
run(train_command(straight))
# The uniform moments span a run like the trials' own: the first run compiled the recipe, later ones hit the cache.
t0 = time.monotonic(); run(train_command(f"{work}/timed")); span = time.monotonic() - t0
subprocess.run(["rm", "-rf", f"{work}/timed"])
reference = training_state(straight)
same, kinds, killed = 0, {"uniform": 0, "checkpoint write": 0, "stage boundary": 0}, {"uniform": 0, "checkpoint write": 0, "stage boundary": 0}
for i in range(n):
    trial = f"{work}/trial-{i:03d}"
    kind = "stage boundary" if i % 5 == 4 else "checkpoint write" if i % 3 == 2 else "uniform"
    moment = past_first_stage(trial) if kind == "stage boundary" else writing_checkpoint(trial) if kind == "checkpoint write" else rng.uniform(0, span)
    killed[kind] += kill_when(train_command(trial), moment)
    kinds[kind] += 1
    run(train_command(trial))                      # the same command resumes to the end
    ok = training_state(trial) == reference
    same += ok
    if not ok: print(f"training trial {i} ({kind}): DIFFERENT from the straight run", flush=True)
    subprocess.run(["rm", "-rf", trial])
print(f"training: {same}/{n} identical to the straight run (killed mid-run: " + ", ".join(f"{killed[k]} of {v} {k}" for k, v in kinds.items()) + f"; straight run {span:.1f} s)", flush=True)

# --- data factory ---
os.makedirs(f"{work}/shards")
docs = [json.loads(l) for l in open(f"{repo}/data/samples/raw/en.jsonl")] + [json.loads(l) for l in open(f"{repo}/data/samples/raw/zh.jsonl")]
for s in range(8):   # six copies of the sample, renamed, so the factory works for seconds rather than starts and ends
    with open(f"{work}/shards/part-{s}.jsonl", "w") as f:
        for copy in range(6):
            for d in docs[s::8]: f.write(json.dumps(dict(d, id=f"{d['id']}-{copy}"), ensure_ascii=False) + "\n")
# Every factory run writes to the same place: its records name the files they came from.
out = f"{work}/factory"
run(factory_command(out))
freference = factory_state(out)
subprocess.run(["rm", "-rf", out, f"{out}-index"])
t0 = time.monotonic(); run(factory_command(out)); fspan = time.monotonic() - t0
subprocess.run(["rm", "-rf", out, f"{out}-index"])
fsame, fkilled = 0, 0
for i in range(n):
    fkilled += kill_when(factory_command(out), rng.uniform(0, fspan))
    run(factory_command(out))
    ok = factory_state(out) == freference
    fsame += ok
    if not ok: print(f"data factory trial {i}: DIFFERENT from the straight run", flush=True)
    subprocess.run(["rm", "-rf", out, f"{out}-index"])
print(f"data factory: {fsame}/{n} identical to the straight run ({fkilled} killed mid-run; straight run {fspan:.1f} s)", flush=True)
sys.exit(0 if same == n and fsame == n else 1)
PY
