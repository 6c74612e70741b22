#!/usr/bin/env bash
# Encode throughput of our SentencePiece BPE vs the SentencePiece library (C++ through its Python binding) on the
# same text, same machine, one run. Needs Debian's python3-sentencepiece (apt-get install python3-sentencepiece).
# Usage: bench/tokenizer.sh [tokenizer.model] [corpus files...]
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-tests/fixtures/tokenizer/mini.model}"; shift || true
corpus=("$@"); [ ${#corpus[@]} -gt 0 ] || corpus=(tests/fixtures/tokenizer/train.txt)
repeat=100
dotnet build -c Release src/Ziya2.Cli -v q -nologo >/dev/null
ours=$(src/Ziya2.Cli/bin/Release/net10.0/ziya2 tokenizer bench --tokenizer "$model" --corpus "${corpus[@]}" --repeat $repeat)
theirs=$(/usr/bin/python3 - "$model" "$repeat" "${corpus[@]}" <<'PY'
import json, sys, time
import sentencepiece as spm
model, repeat, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
lines = [l for f in files for l in open(f, encoding="utf-8").read().split("\n")]
sp = spm.SentencePieceProcessor(model_file=model)
for l in lines: sp.encode(l)
times = []
for _ in range(3):
    t = time.perf_counter()
    for _ in range(repeat):
        for l in lines: sp.encode(l)
    times.append(time.perf_counter() - t)
times.sort()
nbytes = sum(len(l.encode("utf-8")) for l in lines) * repeat
print(json.dumps({"bytes": nbytes, "seconds": times[1], "mb_per_s": nbytes / 1e6 / times[1]}))
PY
)
echo "ziya2:         $ours"
echo "sentencepiece: $theirs"
/usr/bin/python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(f'ratio ziya2/sentencepiece = {a[\"mb_per_s\"]/b[\"mb_per_s\"]:.2f}x ({a[\"mb_per_s\"]:.2f} vs {b[\"mb_per_s\"]:.2f} MB/s)')" "$ours" "$theirs"
