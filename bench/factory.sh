#!/usr/bin/env bash
# The whole data factory, as a user runs it: recipes/data-factory.csx with the shared pipeline definitions
# (recipes/pipelines/ziya2.toml: DP → AS → RF → CD, then step 5 on its 1 % sample and the gate), over a generated
# web-like corpus (bench/web-corpus.py: long zh and en pages, boilerplate, other languages, junk, duplicates).
#   bench/factory.sh [MB] [ziya2 options, e.g. --set factory.parallelism=1]         (default 100 MB)
# Prints MB/s wall for the whole recipe against the target (4× the paper's 15 GB/hour = 16.7 MB/s), CPU-seconds and
# MB/s per core of every step, peak memory, and the language decisions' agreement with a saved baseline:
#   ZIYA2_LANGUAGE_BASELINE=FILE bench/factory.sh   compares with FILE (one "id<TAB>decision" per document) and,
#   when FILE does not exist, writes it from this run.
#   ZIYA2_BENCH_LOG=Debug bench/factory.sh        the recipe's log level (default Warning; the run's log is <work>/run/logs).
#   ZIYA2_REPO=DIR bench/factory.sh                  runs another checkout's build and recipe on the same corpus (a
#   baseline: git worktree add /tmp/base <commit>), so the two are measured in one session.
# The scoring models are 5-gram models trained on the first shard (their training is not part of the measurement),
# read in binary form (ZIYA2_LM_FORM=arpa reads the ARPA text instead).
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-100}"; shift $(( $# < 1 ? $# : 1 ))
work="${TMPDIR:-/tmp}/ziya2-factory-bench"; mkdir -p "$work"
corpus="$work/corpus-$mb"
[ -s "$corpus/page-00.jsonl" ] || python3 bench/web-corpus.py "$mb" "$corpus"
bench="$PWD"; repo="$(cd "${ZIYA2_REPO:-$PWD}" && pwd)"
(cd "$repo" && dotnet build -c Release src/Ziya2.Cli -v q -nologo >/dev/null)
ziya2="$repo/src/Ziya2.Cli/bin/Release/net10.0/ziya2"
if [ ! -s "$work/lm-$mb/en.arpa" ]; then
  "$ziya2" lm train --order 5 --tokenize characters --corpus "$corpus/page-00.jsonl" --out "$work/lm-$mb/zh.arpa" >/dev/null
  "$ziya2" lm train --order 5 --corpus "$corpus/page-00.jsonl" --out "$work/lm-$mb/en.arpa" >/dev/null
fi
# Binary models, as KenLM users run build_binary (the ARPA text takes ~2 s each to read, the binary ~0.1 s), written by
# the measured checkout's own `lm binary`: the binary form has versions, and a baseline reads only its own.
bin="$work/lm-$mb/bin-$(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo local)"
if [ ! -s "$bin/en.bin" ]; then
  mkdir -p "$bin"
  "$ziya2" lm binary "$work/lm-$mb/zh.arpa" "$bin/zh.bin" >/dev/null
  "$ziya2" lm binary "$work/lm-$mb/en.arpa" "$bin/en.bin" >/dev/null
fi
models="$bin"; [ "${ZIYA2_LM_FORM:-bin}" = arpa ] && models="$work/lm-$mb"
cat > "$work/factory.toml" <<EOF
include = ["$repo/recipes/pipelines/ziya2.toml", "$repo/recipes/pipelines/ziya2-code.toml"]
[factory]
inputs = ["$corpus"]
output = "$work/out"
[filters.perplexity]
models = { zh = "$models/zh.${ZIYA2_LM_FORM:-bin}", en = "$models/en.${ZIYA2_LM_FORM:-bin}" }
[filters.dedup]
expected_documents = 1000000
[evaluation]
sample_rate = 0.01
sheet_size = 1000
advertising_lists = ["plugins/Ziya2.Plugins.DataFilters/data/wordlists/advertising.txt"]
toxic_lists = ["plugins/Ziya2.Plugins.DataFilters/data/wordlists/toxic-en.txt", "plugins/Ziya2.Plugins.DataFilters/data/wordlists/toxic-zh.txt"]
enforce_gate = false
EOF
rm -rf "$work/out" "$work/run"
timer=(); if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -f "peak RSS %M KB, %U s user + %S s system"); fi
start=$(date +%s.%N)
(cd "$repo" && "${timer[@]}" "$ziya2" run recipes/data-factory.csx -c "$work/factory.toml" --run-dir "$work/run" --log-level "${ZIYA2_BENCH_LOG:-Warning}" "$@") >"$work/log.txt" 2>&1 || { tail -20 "$work/log.txt"; exit 1; }
end=$(date +%s.%N)
grep "peak RSS" "$work/log.txt" || true
python3 - "$work/out" "$corpus" "$start" "$end" "${ZIYA2_LANGUAGE_BASELINE:-}" <<'PY'
import glob, json, os, subprocess, sys
out, corpus, wall, baseline = sys.argv[1], sys.argv[2], float(sys.argv[4]) - float(sys.argv[3]), sys.argv[5]
total = sum(os.path.getsize(f) for f in glob.glob(os.path.join(corpus, "*.jsonl")))
cpu = 0.0
for name in [n for n in ("dp", "as", "rf", "cd", "dp-rf", "as-cd") if os.path.exists(os.path.join(out, n, "stats.json"))]:
    s = json.load(open(os.path.join(out, name, "stats.json")))
    print(f"== {name}: {s['input']:,} in, {s['kept']:,} kept, {s['seconds']:.1f} s")
    for st in s["steps"]:
        cpu += st["seconds"]
        if st["seconds"] >= 0.05 * wall / 10:
            print(f"  {st['name']:<24} {st['bytes_in']/1e6:8.1f} MB in {st['seconds']:7.2f} CPU-s {st['bytes_in']/1e6/max(st['seconds'],1e-9):8.1f} MB/s per core")
rate = total / 1e6 / wall
print(f"whole recipe: {total/1e6:.1f} MB in {wall:.1f} s wall = {rate:.2f} MB/s = {total/1e9/wall*3600:.1f} GB/hour; "
      f"target 16.7 MB/s (4x the paper's 15 GB/hour): {rate/16.7:.2f}x of it; steps' CPU-s {cpu:.1f}")

def records(directory):
    for f in sorted(glob.glob(os.path.join(directory, "*.zst"))):
        for line in subprocess.run(["zstd", "-dc", f], capture_output=True, text=True, check=True).stdout.splitlines():
            yield json.loads(line)
decisions = {}
if not os.path.isdir(os.path.join(out, "dp")):   # rules-first: the language step's output is not kept apart
    sys.exit(0)
for d in records(os.path.join(out, "dp", "kept")): decisions[d["id"]] = d.get("language") or "?"
for d in records(os.path.join(out, "dp", "rejected")):
    reason = d.get("reason") or d.get("rejection", {}).get("reason") or "rejected"
    if str(reason).startswith("language"): decisions[d.get("id", "")] = str(reason)
if baseline:
    if os.path.exists(baseline):
        old = dict(l.rstrip("\n").split("\t", 1) for l in open(baseline, encoding="utf-8"))
        common = [k for k in old if k in decisions]
        same = sum(old[k] == decisions[k] for k in common)
        print(f"language decisions: {same:,} of {len(common):,} agree with {baseline} ({same / max(1, len(common)):.3%}); "
              f"{len(old) - len(common):,} baseline documents not decided here")
    else:
        with open(baseline, "w", encoding="utf-8") as f:
            for k, v in sorted(decisions.items()): f.write(f"{k}\t{v}\n")
        print(f"language decisions of {len(decisions):,} documents written to {baseline}")
PY
