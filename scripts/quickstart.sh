#!/bin/sh
# The main job on the bundled example: installs what is missing, builds libmewe and the mewe
# command, turns examples/hello/hello.c into a multivariant WebAssembly program, and runs it
# twice under node: the same output each time, a different execution trace each time.
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >build-setup.log 2>&1 || {
    cat build-setup.log
    exit 1
}
ninja -C build >/dev/null

out=build/quickstart
mkdir -p "$out"
echo "== mewe-cc examples/hello/hello.c -o $out/hello.wasm --trace --report $out/report.json"
build/tools/mewe-cc examples/hello/hello.c -o "$out/hello.wasm" --trace \
    --report "$out/report.json"
python3 - "$out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t, w = r["totals"], r.get("wasm", {})
# Variants inlined into their dispatchers are one wasm function with it: generation's check
# compared them; the others are compared again in the output.
checked = (f"{w['distinct_in_wasm']} of {w['variants']} called bodies (variants and originals) "
           f"distinct in the output"
           if w.get("variants") else
           f"{t.get('distinct_in_wasm', '?')} of {t['variants']} variants distinct in wasm "
           f"(inlined in their dispatchers)")
print(f"   {t['diversified']} of {t['eligible']} eligible functions diversified, "
      f"{t['variants']} variants, log10 static paths {t['log10_static_paths']:.2f}, {checked}")
PY
for run in 1 2; do
    echo "== run $run"
    node --no-warnings --no-turbo-fast-api-calls tests/wasm-run.mjs --trace "$out/trace$run.txt" "$out/hello.wasm"
done
if cmp -s "$out/trace1.txt" "$out/trace2.txt"; then
    echo "== the two runs took the same path (possible, but unlikely)"
else
    echo "== same output, different paths: the two traces differ in" \
        "$(cmp -l "$out/trace1.txt" "$out/trace2.txt" 2>/dev/null | wc -l) bytes" \
        "($(wc -l <"$out/trace1.txt") dispatches each)"
fi
