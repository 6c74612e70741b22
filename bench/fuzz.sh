#!/usr/bin/env bash
# Fuzzes one of the readers of untrusted input with afl-fuzz (Debian's afl++) through SharpFuzz:
#   bench/fuzz.sh TARGET SECONDS     TARGET: safetensors, config-json, sentencepiece, arpa, toml, jsonl
# The targets (tests/Ziya2.Fuzz.Tests/FuzzTargets.cs) either read an input or refuse it with the error ziya2 turns into
# exit 2; afl records anything else (another exception, a crash, a hang over 5 s). The reader's assemblies (and the
# parsers they use) are instrumented in a copy of the build; afl starts from tests/fixtures/fuzz/TARGET/seed-*.
# At the end: executions, paths, and each crash or hang copied into tests/fixtures/fuzz/TARGET/ as crash-*/hang-*,
# where FuzzRegressionTests runs it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: bench/fuzz.sh TARGET SECONDS}"; seconds="${2:?usage: bench/fuzz.sh TARGET SECONDS}"
case "$target" in
  safetensors) assemblies=(Ziya2.Abstractions.Tensors) ;;
  config-json) assemblies=(Ziya2.Abstractions.Tensors Ziya2.Plugins.Llama Ziya2.Training) ;;
  sentencepiece) assemblies=(Ziya2.SentencePiece) ;;
  arpa) assemblies=(Ziya2.NGram ICSharpCode.SharpZipLib) ;;
  toml) assemblies=(Ziya2.Kernel Tomlyn) ;;
  jsonl) assemblies=(Ziya2.DataFactory ZstdSharp ICSharpCode.SharpZipLib) ;;
  *) echo "error: unknown target '$target' (safetensors, config-json, sentencepiece, arpa, toml, jsonl)" >&2; exit 2 ;;
esac
command -v afl-fuzz >/dev/null || { echo "error: afl-fuzz not found (apt-get install afl++)" >&2; exit 2; }
dotnet tool restore >/dev/null
dotnet build -c Release tests/Ziya2.Fuzz.Tests -v q -nologo >/dev/null
work="${TMPDIR:-/tmp}/ziya2-fuzz/$target"; rm -rf "$work"; mkdir -p "$work"
cp -r tests/Ziya2.Fuzz.Tests/bin/Release/net10.0 "$work/bin"
for a in "${assemblies[@]}"; do dotnet sharpfuzz "$work/bin/$a.dll" >/dev/null; done
mkdir -p "$work/seeds"; cp tests/fixtures/fuzz/"$target"/seed-* "$work/seeds/"
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
afl-fuzz -i "$work/seeds" -o "$work/findings" -t 5000 -m none -V "$seconds" -- dotnet "$work/bin/Ziya2.Fuzz.Tests.dll" "$target" > "$work/afl.log" 2>&1 || {
  echo "afl-fuzz failed; its log: $work/afl.log" >&2; tail -20 "$work/afl.log" >&2; exit 1; }
stats="$work/findings/default/fuzzer_stats"
field() { grep -E "^$1 +:" "$stats" | sed 's/.*: //'; }
crashes=0; hangs=0
for f in "$work"/findings/default/crashes/id:* "$work"/findings/default/hangs/id:*; do
  [ -e "$f" ] || continue
  kind=$([[ "$f" == */crashes/* ]] && echo crash || echo hang)
  cp "$f" "tests/fixtures/fuzz/$target/$kind-$(sha256sum "$f" | cut -c1-12)"
  [ "$kind" = crash ] && crashes=$((crashes + 1)) || hangs=$((hangs + 1))
done
echo "$target: $(field execs_done) executions in $(field run_time) s ($(field execs_per_sec) per second), $(field corpus_count) inputs in the corpus, $(field edges_found) edges; $crashes crash(es), $hangs hang(s)$([ $((crashes + hangs)) -gt 0 ] && echo " — copied into tests/fixtures/fuzz/$target/")"
