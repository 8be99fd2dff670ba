/*
 * Fuzz target for the server side of the engine: the input is what a client sends, fed
 * to a fresh server connection (one of four configurations) in pieces; the server's
 * application echoes what it reads and does its post-handshake acts (fuzz_engine.h has
 * the input format and the configurations). Every outcome must be a clean one:
 * connected, waiting, or failed with its cause named and its alert queued.
 * In normal builds the fuzzer reaches the plaintext ClientHello paths, HRR and the
 * stateless-cookie path; the fuzzing build (-DMICA_FUZZING: null AEAD, verifications
 * pass) and the recorded seeds fz_*.bin take it into every protected state.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(1, data, size);
}
