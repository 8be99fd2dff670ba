#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets from the RFC 8448 traces.

Usage (from anywhere):  python3 tests/fuzz/make_corpus.py

Reads tests/vectors/rfc8448/rfc8448.vec (itself extracted from the RFC text, see
tests/vectors/rfc8448/extract.py) and rewrites the seed files under
tests/fuzz/corpus/<target>/. Every seed is a real protocol object from the RFC, so the
fuzzers start deep inside the grammar instead of at random bytes:

  fuzz_rd      every handshake message of sections 3-7 (ClientHello, ServerHello,
               EncryptedExtensions, Certificate, CertificateRequest, CertificateVerify,
               Finished, NewSessionTicket, EndOfEarlyData), the truncated ClientHello that
               the PSK binder covers, and every flight sent in one record.
  fuzz_record  one selector byte (see tests/fuzz/fuzz_record.c) and a stream of records:
               the plaintext ClientHello/ServerHello records; the section 3 encrypted
               records under the traffic secret fuzz_record.c installs for that
               selector, in sequence-number order, so they authenticate; the same with
               record_size_limit variants and each round-trip content type.
  fuzz_<msg>   for the message decoder targets (src/tls/msg/<msg>.c), each message body
               of that type, without its 4-byte handshake header; for fuzz_alert the
               alert bodies; for fuzz_key_update the two valid bodies of RFC 8446 4.6.3
               (RFC 8448 has no KeyUpdate). Written only for targets whose
               tests/fuzz/fuzz_<msg>.c exists.

The output is deterministic: running the script twice gives the same files. Only files
named *.seed in the target directories are replaced; anything else there is left alone
(for example inputs saved from a fuzzing run).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.join(HERE, "..", "vectors", "rfc8448", "rfc8448.vec")
OUT = os.path.join(HERE, "corpus")

HANDSHAKE_MESSAGES = {
    "ClientHello", "ServerHello", "EncryptedExtensions", "Certificate",
    "CertificateRequest", "CertificateVerify", "Finished", "NewSessionTicket",
    "EndOfEarlyData", "ClientHello prefix",
}

# fuzz_record.c selector values (bits 0-2: keys; bit 3: record_size_limit; bits 4-5:
# round-trip content type)
PLAINTEXT, S_HS, C_HS, S_AP, C_AP, CHACHA, CCM8, AES256 = range(8)
LIMIT = 0x08


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


def pick(rows, section, side, step, field, nth=0):
    found = [r[4] for r in rows if r[:4] == (section, side, step, field)]
    if len(found) <= nth:
        sys.exit("make_corpus: %d|%s|%s|%s #%d not in %s" % (section, side, step, field,
                                                              nth, VEC))
    return found[nth]


def slug(text):
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()


def add(out, name, val):
    """out[name_<n>] = val, with n counting repeats of the same name"""
    n = 0
    while "%s_%d" % (name, n) in out:
        n += 1
    out["%s_%d" % (name, n)] = val


def seeds_rd(rows):
    out = {}
    for section, side, step, field, val in rows:
        if field in HANDSHAKE_MESSAGES:
            add(out, "s%d_%s_%s" % (section, side, slug(field)), val)
        elif field == "payload" and step == "send handshake record":
            # a flight sent in one record: one or more handshake messages in a row
            add(out, "s%d_%s_flight" % (section, side), val)
    return out


def seeds_record(rows):
    def rec(side, step, nth=0):
        return pick(rows, 3, side, step, "complete record", nth)

    ch = rec("client", "send handshake record", 0)
    sh = rec("server", "send handshake record", 0)
    s_flight = rec("server", "send handshake record", 1)
    s_nst = rec("server", "send handshake record", 2)
    c_fin = rec("client", "send handshake record", 1)
    c_app = rec("client", "send application_data record")
    s_app = rec("server", "send application_data record")
    c_alert = rec("client", "send alert record")
    s_alert = rec("server", "send alert record")
    ccs = bytes.fromhex("140303000101")  # RFC 8446 D.4 middlebox ChangeCipherSpec

    out = {
        "plain_ch": bytes([PLAINTEXT]) + ch,
        "plain_sh": bytes([PLAINTEXT]) + sh,
        "plain_ch_ccs_sh": bytes([PLAINTEXT]) + ch + ccs + sh,
        "s_hs_flight": bytes([S_HS]) + s_flight,
        "s_hs_ccs_flight": bytes([S_HS]) + ccs + s_flight,
        "c_hs_finished": bytes([C_HS]) + c_fin,
        "s_ap_nst_data_alert": bytes([S_AP]) + s_nst + s_app + s_alert,
        "c_ap_data_alert": bytes([C_AP]) + c_app + c_alert,
        # the record_size_limit: 64 (the flight is too long: record_overflow) and
        # 64 + 15 * 1021 (large enough)
        "s_hs_flight_limit64": bytes([S_HS | LIMIT]) + s_flight,
        "s_hs_flight_limit15379": bytes([S_HS | LIMIT | 0xF0]) + s_flight,
        "c_ap_limit64": bytes([C_AP | LIMIT]) + c_app + c_alert,
        # other suites: the RFC's records do not authenticate under these keys
        "chacha_app": bytes([CHACHA]) + c_app,
        "ccm8_app": bytes([CCM8]) + c_app,
        "aes256_app": bytes([AES256]) + s_app,
    }
    # every plaintext record of every section
    for section, side, step, field, val in rows:
        if field == "complete record" and val[:1] == b"\x16":
            add(out, "plain_s%d_%s" % (section, side), bytes([PLAINTEXT]) + val)
    # the round trip under each content type (bits 4-5), protected and not
    for t in range(4):
        out["roundtrip_type%d_plain" % t] = bytes([PLAINTEXT | (t << 4)]) + c_app[5:]
        out["roundtrip_type%d_c_ap" % t] = bytes([C_AP | (t << 4)]) + c_app[5:]
    return out


# message decoder targets: target -> the RFC 8448 field whose bodies seed it
MESSAGE_TARGETS = {
    "fuzz_client_hello": "ClientHello",
    "fuzz_server_hello": "ServerHello",
    "fuzz_encrypted_extensions": "EncryptedExtensions",
    "fuzz_certificate": "Certificate",
    "fuzz_certificate_request": "CertificateRequest",
    "fuzz_certificate_verify": "CertificateVerify",
    "fuzz_new_session_ticket": "NewSessionTicket",
}


def seeds_message(rows, field):
    out = {}
    for section, side, step, f, val in rows:
        if f == field:
            add(out, "s%d_%s" % (section, side), val[4:])
    return out


def seeds_alert(rows):
    out = {}
    for section, side, step, field, val in rows:
        if field == "payload" and step == "send alert record":
            add(out, "s%d_%s" % (section, side), val)
    return out


def write(target, seeds):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.endswith(".seed"):
            os.remove(os.path.join(d, name))
    seen = {}
    for name in sorted(seeds):
        val = seeds[name]
        if val in seen:
            continue  # the same bytes under another name
        seen[val] = name
        with open(os.path.join(d, name + ".seed"), "wb") as f:
            f.write(val)
    print("make_corpus: %-26s %2d seeds, %6d bytes" % (target, len(seen),
                                                         sum(len(v) for v in seen)))


def main():
    rows = load()
    write("fuzz_rd", seeds_rd(rows))
    write("fuzz_record", seeds_record(rows))
    extra = dict((t, seeds_message(rows, f)) for t, f in MESSAGE_TARGETS.items())
    extra["fuzz_alert"] = seeds_alert(rows)
    extra["fuzz_key_update"] = {"update_not_requested": b"\x00",
                                "update_requested": b"\x01"}
    for target in sorted(extra):
        if os.path.exists(os.path.join(HERE, target + ".c")):
            write(target, extra[target])


if __name__ == "__main__":
    main()
