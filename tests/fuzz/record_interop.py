#!/usr/bin/env python3
"""Seeds for the engine fuzz targets recorded from real TLS stacks (run by hand, from the
repository root, after `make fuzz`; the files it writes are checked in):

    python3 tests/fuzz/record_interop.py build/fuzz

fuzz_server/interop_<peer>.bin: the first flight of openssl s_client, gnutls-cli, curl and
    Python's ssl, caught by a listener that answers nothing: ClientHellos with other
    stacks' extension sets, orders, GREASE and key shares.
fuzz_client/interop_<server>_m<mode>.bin: what openssl s_server and gnutls-serv answer to
    the very ClientHello the fuzz_client target sends in that mode (fuzz_engine.h fixes
    its randomness; record_engine --hello writes it). The fuzzed client meets the same
    ServerHello again, so in normal builds (real AEAD) it derives the same keys, decrypts
    the real server's flight and completes the handshake against it; the fuzzing build's
    null AEAD takes these seeds as far as the ServerHello.

Servers and listener use 127.0.0.1 and ports the kernel picks; each is stopped here.
"""
import os
import socket
import subprocess
import sys
import time

CERTS = "tests/vectors/certs"
OUT = "tests/fuzz/corpus"
CHUNK = 63  # control byte bits 0-5: pieces of 63 * 7 + 1 bytes


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def put(target, name, control, data):
    path = f"{OUT}/{target}/{name}"
    with open(path, "wb") as f:
        f.write(bytes([control]) + data)
    print(f"{path:56} {len(data) + 1:6} bytes")


def read_all(sock, quiet=1.0, total=5.0):
    """what the peer sends until it is quiet for `quiet` seconds (or closes)"""
    sock.settimeout(quiet)
    data, end = b"", time.time() + total
    while time.time() < end:
        try:
            got = sock.recv(65536)
        except socket.timeout:
            break
        if not got:
            break
        data += got
    return data


def catch_hello(name, cmd_for_port):
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    port = lst.getsockname()[1]
    proc = subprocess.Popen(cmd_for_port(port), stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lst.settimeout(10)
    try:
        conn, _ = lst.accept()
        data = read_all(conn, quiet=0.5)
        conn.close()
    finally:
        proc.kill()
        proc.wait()
        lst.close()
    if len(data) < 5 or data[0] != 22:
        sys.exit(f"record_interop: {name}: no ClientHello caught")
    put("fuzz_server", f"interop_{name}.bin", CHUNK, data)
    put("fuzz_server", f"interop_{name}_m1.bin", 1 << 6 | CHUNK, data)


def answer_to(name, mode, hello, server_cmd):
    port = free_port()
    proc = subprocess.Popen(server_cmd(port), stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit(f"record_interop: {name} does not listen")
        sock.sendall(hello)
        data = read_all(sock)
        sock.close()
    finally:
        proc.kill()
        proc.wait()
    if len(data) < 5 or data[0] != 22:
        sys.exit(f"record_interop: {name}: no ServerHello")
    put("fuzz_client", f"interop_{name}_m{mode}.bin", mode << 6 | CHUNK, data)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: record_interop.py FUZZ_BUILD_DIR")
    record = os.path.join(sys.argv[1], "tests", "record_engine")
    ecdsa = (f"{CERTS}/ecdsa-p256.chain.pem", f"{CERTS}/ecdsa-p256.key")

    catch_hello("openssl", lambda p: ["openssl", "s_client", "-connect", f"127.0.0.1:{p}",
                                      "-servername", "localhost", "-quiet"])
    catch_hello("gnutls", lambda p: ["gnutls-cli", "--port", str(p), "--insecure",
                                     "--sni-hostname", "localhost", "127.0.0.1"])
    catch_hello("curl", lambda p: ["curl", "-sk", "--max-time", "3",
                                   f"https://localhost:{p}/"])
    catch_hello("python", lambda p: [sys.executable, "-c",
                                     "import socket,ssl;c=ssl.create_default_context();"
                                     "c.check_hostname=False;c.verify_mode=ssl.CERT_NONE;"
                                     f"c.wrap_socket(socket.create_connection(('127.0.0.1',{p})),"
                                     "server_hostname='localhost')"])

    # mode 0 only: its key shares (X25519, ML-KEM) come from the fixed randomness; a
    # P-256 share (mode 3) is made by libcrypto from its own randomness, and mode 2 offers
    # only X25519MLKEM768, which neither server speaks
    for mode in (0,):
        hello_file = f"/tmp/mica-hello-{os.getpid()}-{mode}.bin"
        subprocess.run([record, "--hello", str(mode), hello_file], check=True)
        with open(hello_file, "rb") as f:
            hello = f.read()
        os.unlink(hello_file)
        key = ecdsa
        answer_to("openssl", mode, hello, lambda p: [
            "openssl", "s_server", "-accept", f"127.0.0.1:{p}", "-cert", key[0], "-key",
            key[1], "-tls1_3", "-quiet", "-naccept", "1"])
        answer_to("gnutls", mode, hello, lambda p: [
            "gnutls-serv", "--port", str(p), "--x509certfile", key[0], "--x509keyfile",
            key[1], "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"])


if __name__ == "__main__":
    main()
