# tests/fuzz/: libFuzzer targets (./configure CC=clang --enable-fuzzing).
if FUZZING
FUZZ_LDFLAGS = -fsanitize=fuzzer,address,undefined
endif
