#!/bin/sh
# Builds the libFuzzer harnesses with clang (address and undefined-behaviour
# sanitizers) in build-fuzz/ and runs each for SECONDS (default 60), one
# after the other, in one process each. Seeds: the examples, the bad
# configurations of the tests, and journals of real activate runs on the
# fixture hosts (fuzz/seeds/journal). What a run finds stays in
# build-fuzz/corpus/; a crash is written there too and fails the script.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
build=${FUZZ_BUILD_DIR:-build-fuzz}

if [ ! -f "$build/build.ninja" ]; then
        CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
                -Dtests=disabled -Dlibvirt=disabled -Dsystemd=disabled -Dudev=disabled >/dev/null
fi
meson compile -C "$build" fuzz/fuzz-config fuzz/fuzz-journal >/dev/null

corpus=$build/corpus
mkdir -p "$corpus/config" "$corpus/journal" "$build/artifacts"
cp examples/*.yaml examples/conf.d/*.yaml tests/configs/bad/*.yaml "$corpus/config/"
cp fuzz/seeds/journal/* "$corpus/journal/"

status=0
for h in config journal; do
        echo "fuzz-$h: ${secs} s"
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$build/fuzz/fuzz-$h" -max_total_time="$secs" -print_final_stats=1 -max_len=65536 \
                -artifact_prefix="$build/artifacts/$h-" "$corpus/$h" >"$build/fuzz-$h.log" 2>&1 || status=1
        grep -E 'DONE|stat::|SUMMARY' "$build/fuzz-$h.log" || true
        if [ $status -ne 0 ]; then
                tail -40 "$build/fuzz-$h.log"
                echo "fuzz-$h found a crash: $(ls "$build/artifacts" | grep "^$h-" | head -1)"
                break
        fi
done
exit $status
