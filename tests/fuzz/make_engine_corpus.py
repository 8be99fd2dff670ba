#!/usr/bin/env python3
"""Seeds for the engine fuzz targets (fuzz_server, fuzz_client) from RFC 8448.

Each seed is one byte that sets the feed chunk size (see the targets), then records as a
peer sends them: ClientHellos (also the HRR section's second one) for the server, a
ServerHello and the encrypted flight for the client. Run from the repository root."""
import os

VEC = "tests/vectors/rfc8448/rfc8448.vec"
OUT = "tests/fuzz/corpus/"
rows = [l.rstrip("\n").split("|") for l in open(VEC) if not l.startswith("#")]


def get(sec, side, step, field, nth=0):
    k = 0
    for r in rows:
        if int(r[0]) == sec and r[1] == side and r[2] == step and r[3] == field:
            if k == nth:
                return bytes.fromhex(r[4])
            k += 1
    raise SystemExit(f"missing {sec} {side} {step} {field} {nth}")


def put(target, name, data):
    os.makedirs(OUT + target, exist_ok=True)
    with open(f"{OUT}{target}/{name}", "wb") as f:
        f.write(data)


for sec in (3, 5, 6, 7):
    ch = get(sec, "client", "send handshake record", "complete record")
    put("fuzz_server", f"rfc8448_s{sec}_ch.bin", b"\x00" + ch)
    put("fuzz_server", f"rfc8448_s{sec}_ch_frag.bin", b"\x01" + ch)
    sh = get(sec, "server", "send handshake record", "complete record")
    flight = get(sec, "server", "send handshake record", "complete record", 1)
    put("fuzz_client", f"rfc8448_s{sec}_sh.bin", b"\x00" + sh + flight)
put("fuzz_server", "rfc8448_s5_ch2.bin",
    b"\x00" + get(5, "client", "send handshake record", "complete record", 1))
