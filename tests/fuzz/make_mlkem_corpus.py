#!/usr/bin/env python3
"""Write the seed corpus of tests/fuzz/fuzz_mlkem.c from the checked-in ML-KEM vectors.

Usage (from anywhere):  python3 tests/fuzz/make_mlkem_corpus.py

Reads tests/vectors/mlkem/wycheproof/*.txt (made by tests/vectors/mlkem/convert.py) and
rewrites tests/fuzz/corpus/fuzz_mlkem/*.seed. The first byte of each seed is the mode
fuzz_mlkem.c reads (0 encapsulation key, 1 ciphertext, 2 decapsulation-key edits,
3 decapsulation key); the fixed key of modes 1-3 is Wycheproof's "official round 3
seeds 0" (mlkem_768_test tcId 2), whose ciphertext and key are used here.

Output is deterministic; only *.seed files in the directory are replaced.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.join(HERE, "..", "vectors", "mlkem", "wycheproof")
OUT = os.path.join(HERE, "corpus", "fuzz_mlkem")


def cases(name):
    """(tcId, result, flags, fields...) for each test line of a converted file."""
    with open(os.path.join(VEC, name), encoding="ascii") as f:
        for line in f:
            parts = line.rstrip("\n").split("|")
            if parts[0].isdigit():
                yield parts


def first(name, pred):
    for c in cases(name):
        if pred(c):
            return c
    raise SystemExit("make_mlkem_corpus: no matching case in " + name)


def main():
    seeds = {}
    # mode 0: encapsulation keys (encaps file: tcId|result|flags|ek|m|c|K)
    enc = "mlkem_768_encaps_test.txt"
    seeds["ek_valid"] = b"\x00" + bytes.fromhex(first(enc, lambda c: c[0] == "14")[3])
    seeds["ek_unreduced"] = b"\x00" + bytes.fromhex(
        first(enc, lambda c: c[1] == "invalid" and c[2] == "-" and len(c[3]) == 2368)[3])
    seeds["ek_modulus_overflow"] = b"\x00" + bytes.fromhex(
        first(enc, lambda c: c[2] == "ModulusOverflow")[3])
    seeds["ek_short"] = b"\x00" + bytes.fromhex(
        first(enc, lambda c: c[1] == "invalid" and 0 < len(c[3]) < 2368)[3])
    # mode 1: the fixed key's ciphertext (test file: tcId|result|flags|seed|ek|c|K)
    tc2 = first("mlkem_768_test.txt", lambda c: c[0] == "2")
    c = bytes.fromhex(tc2[5])
    seeds["ct_valid"] = b"\x01" + c
    seeds["ct_long"] = b"\x01" + c + b"\x00"
    # mode 2: edits of the fixed key: (offset hi, offset lo, xor)
    seeds["dk_edit_dkpke"] = b"\x02" + bytes([0x00, 0x10, 0x01])
    seeds["dk_edit_hash"] = b"\x02" + bytes([0x09, 0x20, 0x80])  # offset 2336: H(ek)
    seeds["dk_edit_z"] = b"\x02" + bytes([0x09, 0x5f, 0xff])     # offset 2399: z
    # mode 3: the fixed decapsulation key itself (keygen file: tcId|result|flags|seed|ek|dk)
    kg = first("mlkem_768_keygen_seed_test.txt", lambda c: c[3] == tc2[3])
    seeds["dk_raw"] = b"\x03" + bytes.fromhex(kg[5])

    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.endswith(".seed"):
            os.remove(os.path.join(OUT, name))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(OUT, name + ".seed"), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
