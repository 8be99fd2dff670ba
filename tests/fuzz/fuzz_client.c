/*
 * Fuzz target for the client side of the engine: a fresh client (one of four
 * configurations) sends its ClientHello, and the input is what the "server" answers
 * (ServerHello, HRR, the encrypted flight, tickets, KeyUpdate, alerts, CCS, garbage);
 * the client's application echoes what it reads. See fuzz_server.c and fuzz_engine.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(0, data, size);
}
