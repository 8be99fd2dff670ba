#!/usr/bin/env python3
"""Write the seed of fuzz_psk: one well-formed client session blob, without the SHA-256
check that the target appends (layout in src/tls/psk.c):

    version(1)=2 verified(1) suite(2) issued_ms(8) auth_ms(8) lifetime(4) age_add(4)
    max_early(4) psk<1..64> sni<0..255> alpn<0..255> ticket<1..2^16-1>

The target's clock stands 1 s after issued_ms, so the seed is offered, with early data.

Usage (from anywhere):  python3 tests/fuzz/make_psk_corpus.py
Deterministic: the same bytes every run.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def vec8(b):
    return bytes([len(b)]) + b


def main():
    blob = bytes([2, 1])
    blob += struct.pack(">HQQIII", 0x1301, 1795000000000, 1795000000000, 7200, 0x01020304, 16384)
    blob += vec8(bytes(range(32)))
    blob += vec8(b"localhost")
    blob += vec8(b"http/1.1")
    ticket = bytes((i * 7) & 0xFF for i in range(120))
    blob += struct.pack(">H", len(ticket)) + ticket
    out = os.path.join(HERE, "corpus", "fuzz_psk")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "session.bin"), "wb") as f:
        f.write(blob)


if __name__ == "__main__":
    main()
