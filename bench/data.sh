#!/usr/bin/env bash
# Data-factory throughput on a generated mixed zh/en corpus (default 300 MB in 8 JSONL shards), this machine, one run:
# MB/s per step (bytes into the step / CPU-seconds inside it) and for the whole chain (input bytes / wall time).
# The paper's factory processed ~15 GB/hour (4.2 MB/s). Usage: bench/data.sh [MB] [pipeline.toml] [ziya2 options, e.g. --set k=v]
# Corpus steps (perplexity, dedup) are timed in pass 2 only; the wall time includes both passes. Peak memory is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-300}"; pipeline="${2:-recipes/pipelines/tiny.toml}"; shift $(( $# < 2 ? $# : 2 ))   # the rest: extra ziya2 options (--set …)
work="${TMPDIR:-/tmp}/ziya2-data-bench"; rm -rf "$work"; mkdir -p "$work/in"
python3 - "$mb" "$work/in" <<'PY'
import json, os, random, sys
mb, out = int(sys.argv[1]), sys.argv[2]
root = os.getcwd()
docs = [json.loads(l)["text"] for l in open(os.path.join(root, "recipes/data/tiny.jsonl"), encoding="utf-8")]
for name in ("chinese_train.txt", "chinese_extra.txt"):
    docs += [l for l in open(os.path.join(root, "tests/fixtures/tokenizer", name), encoding="utf-8").read().split("\n") if l]
english = open(os.path.join(root, "tests/fixtures/tokenizer/train.txt"), encoding="utf-8").read().split("\n\n")
docs += [p for p in english if len(p) > 20]
rng = random.Random(1234)
target, shards = mb * 1_000_000, 8
for s in range(shards):
    size, i = 0, 0
    with open(os.path.join(out, f"part-{s:02d}.jsonl"), "w", encoding="utf-8") as f:
        while size < target // shards:
            text = "\n\n".join(rng.choice(docs) for _ in range(rng.randint(1, 12)))
            line = json.dumps({"id": f"{s}-{i}", "text": text, "url": f"https://example.com/{s}/{i}"}, ensure_ascii=False) + "\n"
            f.write(line); size += len(line.encode()); i += 1
PY
dotnet build -c Release src/Ziya2.Cli -v q -nologo >/dev/null
ziya2=src/Ziya2.Cli/bin/Release/net10.0/ziya2
extra=()
if grep -q '"perplexity"' "$pipeline"; then
  # Scoring needs models: 3-gram models from the first shard (training time is not part of the measurement).
  "$ziya2" lm train --order 3 --tokenize characters --corpus "$work/in/part-00.jsonl" --out "$work/lm/zh.arpa" >/dev/null
  "$ziya2" lm train --order 3 --corpus "$work/in/part-00.jsonl" --out "$work/lm/en.arpa" >/dev/null
  extra+=(--set "filters.perplexity.models.zh=\"$work/lm/zh.arpa\"" --set "filters.perplexity.models.en=\"$work/lm/en.arpa\"")
  # The generated corpus has no language field: tag it the way the language step would, by script.
  python3 - "$work/in" <<'PY'
import json, os, sys
for name in sorted(os.listdir(sys.argv[1])):
    path = os.path.join(sys.argv[1], name); out = []
    for line in open(path, encoding="utf-8"):
        d = json.loads(line); han = sum(1 for c in d["text"] if "\u4e00" <= c <= "\u9fff")
        d["language"] = "zh" if han * 3 > len(d["text"]) else "en"; out.append(json.dumps(d, ensure_ascii=False))
    open(path, "w", encoding="utf-8").write("\n".join(out) + "\n")
PY
fi
if grep -q '"dedup"' "$pipeline"; then extra+=(--set "filters.dedup.index=\"$work/index\""); fi
start=$(date +%s.%N)
timer=(); if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -f "peak RSS %M KB"); fi
"${timer[@]}" "$ziya2" data run "$pipeline" --input "$work/in" --output "$work/out" --log-level Warning "${extra[@]}" "$@"
end=$(date +%s.%N)
python3 - "$pipeline" "$work/out" "$start" "$end" <<'PY'
import json, os, sys, tomllib
names = list(tomllib.load(open(sys.argv[1], "rb"))["pipelines"])   # the order they ran in
wall = float(sys.argv[4]) - float(sys.argv[3]); total = None
for name in names:
    s = json.load(open(os.path.join(sys.argv[2], name, "stats.json")))
    if total is None: total = s["steps"][0]["bytes_in"]
    print(f"== {name}")
    for st in s["steps"]:
        rate = st["bytes_in"] / 1e6 / st["seconds"] if st["seconds"] > 0 else float("inf")
        print(f"{st['name']:<24} {st['bytes_in']/1e6:9.1f} MB in  {st['seconds']:7.2f} CPU-s  {rate:8.1f} MB/s per core")
        if st["seconds"] > 0: print(f"{'':<24} {st['input']:9,} docs    {st['input']/st['seconds']:10,.0f} docs/s per core")
print(f"whole chain: {total/1e6:.1f} MB of text in {wall:.1f} s wall = {total/1e6/wall:.1f} MB/s = {total/1e9/wall*3600:.1f} GB/hour (paper: ~15 GB/hour)")
PY
