#!/usr/bin/env python3
"""Write the seed corpora of the message decoder fuzz targets.

Usage (from anywhere):  python3 tests/fuzz/make_msg_corpus.py

Reads tests/vectors/rfc8448/rfc8448.vec and rewrites the *.seed files under
tests/fuzz/corpus/<target>/ for the targets of src/tls/msg/ (tests/fuzz/fuzz_<message>.c):

  fuzz_client_hello            every ClientHello of RFC 8448 sections 3-7
  fuzz_server_hello            every ServerHello, and section 5's HelloRetryRequest
  fuzz_encrypted_extensions    every EncryptedExtensions
  fuzz_certificate             every Certificate (server's and section 6's client's)
  fuzz_certificate_request     section 6's CertificateRequest
  fuzz_certificate_verify      every CertificateVerify
  fuzz_new_session_ticket      section 3's NewSessionTicket
  fuzz_key_update              0 and 1 (RFC 8448 has no KeyUpdate)
  fuzz_alert                   every alert record payload of RFC 8448

Each seed is a message body without its 4-byte handshake header, which is what the
decoders take (fuzz_client_hello.c adds the header itself).

  *.seed   the RFC 8448 messages, named and de-duplicated exactly as
           tests/fuzz/make_corpus.py names them (that script writes these targets'
           RFC seeds too, when their .c files exist; both give the same files)
  *.built  seeds built here, only by this script, to reach what RFC 8448 does not use:
           ALPN, status_request, cookie, record_size_limit, post_handshake_auth,
           GREASE, OCSP in a CertificateEntry, HelloRetryRequest variants, a TLS 1.2
           ServerHello, an illegal KeyUpdate, other alerts, and section 4's whole
           ClientHello (RFC 8448 prints it whole only as a record's payload)

The output is deterministic. Only *.seed and *.built files in these target directories
are replaced; anything else there (inputs saved from a fuzzing run) is left alone.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.join(HERE, "..", "vectors", "rfc8448", "rfc8448.vec")
OUT = os.path.join(HERE, "corpus")

# handshake message name in rfc8448.vec -> fuzz target
TARGETS = {
    "ClientHello": "fuzz_client_hello",
    "ServerHello": "fuzz_server_hello",
    "EncryptedExtensions": "fuzz_encrypted_extensions",
    "Certificate": "fuzz_certificate",
    "CertificateRequest": "fuzz_certificate_request",
    "CertificateVerify": "fuzz_certificate_verify",
    "NewSessionTicket": "fuzz_new_session_ticket",
}
ALL = sorted(set(TARGETS.values()) | {"fuzz_key_update", "fuzz_alert"})

HRR_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def load():
    rows = []
    with open(VEC, encoding="ascii") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            section, side, step, field, hexval = line.split("|")
            rows.append((int(section), side, step, field, bytes.fromhex(hexval)))
    return rows


# ---- TLS presentation-language helpers ---------------------------------------------

def u8(v):
    return struct.pack(">B", v)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def vec8(b):
    return u8(len(b)) + b


def vec16(b):
    return u16(len(b)) + b


def vec24(b):
    return struct.pack(">I", len(b))[1:] + b


def ext(t, data):
    return u16(t) + vec16(data)


def u16s(*vals):
    return b"".join(u16(v) for v in vals)


# ---- seeds built here --------------------------------------------------------------

def built_seeds():
    share = u16(0x001d) + vec16(bytes(range(32)))
    ch_exts = b"".join([
        ext(0x0a0a, b""),                                            # GREASE
        ext(0, vec16(u8(0) + vec16(b"example.com"))),                # server_name
        ext(5, u8(1) + vec16(vec16(b"rid")) + vec16(b"")),           # status_request
        ext(10, vec16(u16s(0x001d, 0x0017))),                        # supported_groups
        ext(13, vec16(u16s(0x0403, 0x0804))),                        # signature_algorithms
        ext(50, vec16(u16s(0x0403))),                                # signature_algorithms_cert
        ext(16, vec16(vec8(b"h2") + vec8(b"http/1.1"))),             # ALPN
        ext(28, u16(0x4001)),                                        # record_size_limit
        ext(43, vec8(u16s(0x0304, 0x0303))),                         # supported_versions
        ext(44, vec16(b"cookie-bytes")),                             # cookie
        ext(45, vec8(b"\x01\x00")),                                  # psk_key_exchange_modes
        ext(51, vec16(share)),                                       # key_share
        ext(49, b""),                                                # post_handshake_auth
        ext(42, b""),                                                # early_data
        ext(21, bytes(7)),                                           # padding
        ext(41, vec16(vec16(b"ticket-id") + u32(7)) +                # pre_shared_key, last
            vec16(vec8(bytes(32)))),
    ])
    ch = (u16(0x0303) + bytes(32) + vec8(bytes(32)) + vec16(u16s(0x1301, 0x1302)) +
          vec8(b"\x00") + vec16(ch_exts))
    ch_no_ext = u16(0x0303) + bytes(32) + vec8(b"") + vec16(u16s(0x1301)) + vec8(b"\x00")

    hrr = (u16(0x0303) + HRR_RANDOM + vec8(b"") + u16(0x1301) + u8(0) +
           vec16(ext(43, u16(0x0304)) + ext(51, u16(0x0017)) + ext(44, vec16(b"c"))))
    sh_psk = (u16(0x0303) + bytes(range(32)) + vec8(b"") + u16(0x1301) + u8(0) +
              vec16(ext(43, u16(0x0304)) + ext(41, u16(0)) + ext(51, share)))
    sh_tls12 = (u16(0x0303) + bytes(range(32)) + vec8(b"") + u16(0xc02f) + u8(0) +
                vec16(ext(0xff01, b"\x00") + ext(0, b"")))

    ee = vec16(b"".join([
        ext(0, b""), ext(16, vec16(vec8(b"h2"))), ext(28, u16(0x4001)), ext(42, b""),
        ext(10, vec16(u16s(0x001d))), ext(0x1a1a, b"grease"),
    ]))
    cr = vec8(b"ctx") + vec16(b"".join([
        ext(13, vec16(u16s(0x0403, 0x0804))), ext(50, vec16(u16s(0x0403))),
        ext(5, b""), ext(47, vec16(vec16(b"CN=ca"))), ext(48, vec16(b"")),
    ]))
    entry_exts = vec16(ext(5, u8(1) + vec24(b"ocsp-response")) + ext(18, b"sct"))
    cert = vec8(b"") + vec24(vec24(b"certificate-1") + entry_exts +
                             vec24(b"certificate-2") + vec16(b""))
    nst = (u32(7200) + u32(0x01020304) + vec8(b"\x00") + vec16(b"ticket") +
           vec16(ext(42, u32(16384)) + ext(0x2a2a, b"")))
    return {
        "fuzz_client_hello": {"x_all_extensions": ch, "x_no_extensions": ch_no_ext},
        "fuzz_server_hello": {"x_hrr_cookie": hrr, "x_psk_dhe": sh_psk, "x_tls12": sh_tls12},
        "fuzz_encrypted_extensions": {"x_alpn_limit": ee, "x_empty": vec16(b"")},
        "fuzz_certificate_request": {"x_all_extensions": cr},
        "fuzz_certificate": {"x_ocsp_sct": cert, "x_empty": vec8(b"") + vec24(b"")},
        "fuzz_certificate_verify": {"x_empty_signature": u16(0x0804) + vec16(b"")},
        "fuzz_new_session_ticket": {"x_early_data": nst},
        "fuzz_key_update": {"x_illegal": b"\x02", "x_long": b"\x01\x00"},
        "fuzz_alert": {"x_fatal_decode_error": b"\x02\x32",
                       "x_warning_user_canceled": b"\x01\x5a"},
    }


def add(out, name, val):
    """out[name_<n>] = val, with n counting repeats of the same name"""
    n = 0
    while "%s_%d" % (name, n) in out:
        n += 1
    out["%s_%d" % (name, n)] = val


def rfc_seeds(rows):
    seeds = {t: {} for t in ALL}
    for section, side, step, field, value in rows:
        if field in TARGETS:
            add(seeds[TARGETS[field]], "s%d_%s" % (section, side), value[4:])
        elif step == "send alert record" and field == "payload":
            add(seeds["fuzz_alert"], "s%d_%s" % (section, side), value)
    seeds["fuzz_key_update"] = {"update_not_requested": b"\x00", "update_requested": b"\x01"}
    return seeds


def write(d, seeds, suffix):
    """replace the *suffix files of d by seeds, skipping repeated bytes"""
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.endswith(suffix):
            os.remove(os.path.join(d, name))
    seen = set()
    for name, value in sorted(seeds.items()):
        if value in seen:
            continue
        seen.add(value)
        with open(os.path.join(d, name + suffix), "wb") as f:
            f.write(value)
    return len(seen)


def main():
    rows = load()
    rfc = rfc_seeds(rows)
    built = built_seeds()
    # section 4's "construct a ClientHello" stops before the binders (the part they
    # cover); the whole message is the first record the client sends
    for section, side, step, field, value in rows:
        if (section, side, step, field) == (4, "client", "send handshake record", "payload"):
            built["fuzz_client_hello"]["s4_client_whole"] = value[4:]
            break
    for target in ALL:
        d = os.path.join(OUT, target)
        n = write(d, rfc[target], ".seed")
        m = write(d, built.get(target, {}), ".built")
        if n + m == 0:
            sys.exit("make_msg_corpus: no seeds for %s" % target)
        print("make_msg_corpus: %-26s %2d RFC 8448 seeds, %2d built" % (target, n, m))


if __name__ == "__main__":
    main()
