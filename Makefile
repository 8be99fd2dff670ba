# The usual commands. CMake does the building; this file only names the builds.
#   make            release build: libmica.a, libmica.so, the mica command
#   make test       the whole suite twice: ASan+UBSan (clang) and plain -O2 (gcc), then
#                   make fuzz-smoke and make valgrind
#   make valgrind   the in-process tests under valgrind memcheck (gcc -O2 -g), light runs
#   make demo       build and run the demo
#   make install    PREFIX=/usr/local DESTDIR=
#   make fuzz       libFuzzer targets (clang); make fuzz-run FUZZ_SECONDS=60 runs them;
#                   make fuzz-smoke (part of make test) runs each for 10 s
#   make bench      benchmarks against OpenSSL in the same run
#   make format     clang-format the tree; make format-check checks it

PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 30
FUZZ_SMOKE_SECONDS ?= 10
CMAKE ?= cmake
B := build

.PHONY: all deps release asan o2 valgrind test demo install fuzz fuzz-run fuzz-smoke bench format format-check clean

all: release

deps:
	@sh scripts/deps.sh

release: deps
	$(CMAKE) -S . -B $(B)/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	$(CMAKE) --build $(B)/release -j $(JOBS)

# Sanitizer build with clang, -O2 build with gcc: every test run uses both compilers.
asan: deps
	CC=clang $(CMAKE) -S . -B $(B)/asan -DCMAKE_BUILD_TYPE=Debug -DMICA_SANITIZE=ON \
	    -DCMAKE_C_FLAGS_DEBUG="-O1 -g" >/dev/null
	$(CMAKE) --build $(B)/asan -j $(JOBS)

o2: deps
	CC=gcc $(CMAKE) -S . -B $(B)/o2 -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2" >/dev/null
	$(CMAKE) --build $(B)/o2 -j $(JOBS)

# valgrind's memcheck over the in-process tests (tests/unit, tests/inproc and the fuzz
# regressions; not the shell tests), on a plain build (no sanitizer runtime: memcheck
# finds what ASan misses, uninitialised reads above all): gcc -O2 -g, so the warnings are
# the o2 build's. MICA_TEST_LIGHT=1 lets the heaviest tests do a representative part
# (tests/CMakeLists.txt). Any error or definite leak fails.
valgrind: deps
	CC=gcc $(CMAKE) -S . -B $(B)/vg -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -g" \
	    -DMICA_VALGRIND=ON >/dev/null
	$(CMAKE) --build $(B)/vg -j $(JOBS) --target valgrind_tests
	@echo "== in-process tests under valgrind memcheck (gcc -O2 -g) =="
	ctest --test-dir $(B)/vg -L valgrind --output-on-failure -j $(JOBS)

test: asan o2 format-check
	@echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer (clang) =="
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    ctest --test-dir $(B)/asan --output-on-failure -j $(JOBS)
	@echo "== tests, plain -O2 build (gcc) =="
	ctest --test-dir $(B)/o2 --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory valgrind

demo: release
	@sh scripts/demo.sh $(B)/release

install: release
	$(CMAKE) --install $(B)/release --prefix $(PREFIX)

# The fuzzing build (-DMICA_FUZZING: null AEAD, checks that pass; see src/crypto/null.c)
fuzz: deps
	CC=clang $(CMAKE) -S . -B $(B)/fuzz -DCMAKE_BUILD_TYPE=Debug -DMICA_FUZZ=ON >/dev/null
	$(CMAKE) --build $(B)/fuzz -j $(JOBS) --target fuzz_targets

fuzz-run: fuzz
	@sh scripts/fuzz-run.sh $(B)/fuzz $(FUZZ_SECONDS)

# CI's smoke run: every target FUZZ_SMOKE_SECONDS from its seeds, two at a time
fuzz-smoke: fuzz
	@echo "== every fuzz target for $(FUZZ_SMOKE_SECONDS) s (libFuzzer, fuzzing build) =="
	@sh scripts/fuzz-smoke.sh $(B)/fuzz $(FUZZ_SMOKE_SECONDS)

bench: release
	@sh bench/run.sh $(B)/release

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@sh scripts/format-check.sh

clean:
	rm -rf $(B)
