#!/usr/bin/env python3
"""py_peer.py: a TLS 1.3 peer on Python's ssl module, for tests/interop/peers.sh.

  py_peer.py client PORT CAFILE SERVERNAME NBYTES [ALPN,...]
      Connects to 127.0.0.1:PORT (TLS 1.3 only, certificate and name verified), sends
      NBYTES of seeded pseudo-random data, reads the echo until it has NBYTES, checks it
      byte for byte, then closes with close_notify and waits for the server's.

  py_peer.py server PORT CERT KEY [GROUP] [ALPN,...|-]
      Listens on 127.0.0.1:PORT (TLS 1.3 only; GROUP, if not '-', is the only key
      exchange group), says "listening on 127.0.0.1:PORT", accepts ONE connection, echoes
      everything until the client's close_notify, answers with its own and exits.

Both print what was negotiated, one "key: value" per line on standard output, and end
with "result: ok" (exit 0) or "result: FAIL <why>" (exit 1). The cipher suites and groups
the client offers can be narrowed with OPENSSL_CONF (see peers.sh).
"""
import random
import socket
import ssl
import sys


def out(key, value):
    print("%s: %s" % (key, value), flush=True)


def fail(why):
    out("result", "FAIL " + why)
    sys.exit(1)


def negotiated(s):
    out("version", s.version())
    cipher = s.cipher()
    out("cipher", cipher[0] if cipher else "none")
    out("alpn", s.selected_alpn_protocol() or "none")


def tls13_only(ctx):
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3


def client(port, cafile, servername, nbytes, alpn):
    ctx = ssl.create_default_context(cafile=cafile)
    tls13_only(ctx)
    if alpn:
        ctx.set_alpn_protocols(alpn.split(","))
    data = random.Random(port).randbytes(nbytes)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
        with ctx.wrap_socket(raw, server_hostname=servername) as s:
            negotiated(s)
            out("peer", dict(x[0] for x in s.getpeercert()["subject"])["commonName"])
            # Send and read at the same time in small steps, so that neither side's
            # buffers fill up whatever the size.
            got = bytearray()
            sent = 0
            while sent < nbytes:
                chunk = data[sent:sent + 4096]
                s.sendall(chunk)
                sent += len(chunk)
                while len(got) < sent - 65536:
                    b = s.recv(65536)
                    if not b:
                        fail("the server closed after %d of %d bytes" % (len(got), nbytes))
                    got += b
            while len(got) < nbytes:
                b = s.recv(65536)
                if not b:
                    fail("the server closed after %d of %d bytes" % (len(got), nbytes))
                got += b
            if bytes(got) != data:
                fail("the echo differs from what was sent (%d bytes back)" % len(got))
            out("echo", "%d bytes intact" % nbytes)
            # Our close_notify, then the server's: unwrap() fails if the server drops the
            # TCP connection without one.
            s.unwrap()
            out("close", "close_notify both ways")
    out("result", "ok")


def server(port, cert, key, group, alpn):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls13_only(ctx)
    ctx.load_cert_chain(cert, key)
    if group and group != "-":
        ctx.set_ecdh_curve(group)  # OpenSSL 3: SSL_CTX_set1_groups with this one group
    if alpn and alpn != "-":
        ctx.set_alpn_protocols(alpn.split(","))
    try:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port))
        ls.listen(1)
    except OSError as e:
        print("cannot listen on 127.0.0.1:%d: %s" % (port, e.strerror), flush=True)
        sys.exit(2)
    print("listening on 127.0.0.1:%d" % port, flush=True)
    ls.settimeout(30)
    raw, _ = ls.accept()
    ls.close()
    raw.settimeout(20)
    with ctx.wrap_socket(raw, server_side=True) as s:
        negotiated(s)
        total = 0
        while True:
            b = s.recv(65536)
            if not b:  # the client's close_notify (a bare TCP close raises instead)
                break
            s.sendall(b)
            total += len(b)
        out("echoed", "%d bytes" % total)
        s.unwrap()
        out("close", "close_notify both ways")
    out("result", "ok")


def main(argv):
    try:
        if len(argv) in (6, 7) and argv[1] == "client":
            client(int(argv[2]), argv[3], argv[4], int(argv[5]), argv[6] if len(argv) > 6 else "")
        elif len(argv) in (5, 6, 7) and argv[1] == "server":
            server(int(argv[2]), argv[3], argv[4], argv[5] if len(argv) > 5 else "-",
                   argv[6] if len(argv) > 6 else "-")
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (OSError, ssl.SSLError, ValueError) as e:
        fail("%s: %s" % (type(e).__name__, e))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
