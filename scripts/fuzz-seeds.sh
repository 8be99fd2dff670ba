#!/bin/sh
# Re-record the fuzzing build's engine seeds (tests/fuzz/corpus/fuzz_{server,client}/fz_*.bin)
# after a change to what the engine sends, or to tests/fuzz/fuzz_engine.h. Builds the
# fuzzing configuration (make fuzz) and runs tests/fuzz/record_engine.c; commit the result.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s fuzz
build/fuzz/tests/record_engine tests/fuzz/corpus
