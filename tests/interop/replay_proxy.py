#!/usr/bin/env python3
"""replay_proxy.py HOST PORT: record a client's 0-RTT flight and replay it once.

Listens on 127.0.0.1 on a port the kernel chooses and prints that port on standard
output (one line, flushed). Then:

  1. accepts one client connection and holds what the client sends until it has been
     quiet for a moment (a TLS client sends its ClientHello and its early data, then
     waits for the server): that first flight is recorded;
  2. connects to HOST:PORT, forwards the first flight, and relays both ways until both
     sides have closed (bytes the client sends after the first byte from the server are
     relayed, not recorded);
  3. opens a new connection to HOST:PORT, sends exactly the recorded bytes (the replay an
     attacker on the path could make), reads whatever comes back for a moment, closes.

A summary goes to standard error. Exit status: 0 done, 1 a failure (nothing to replay, a
connection refused, a timeout). Standard library only; every wait is bounded.
"""

import select
import socket
import sys
import time

QUIET = 0.3  # the client's first flight is over when it has sent nothing for this long
STEP = 10.0  # bound on each wait for a peer


def log(msg):
    sys.stderr.write("replay_proxy: %s\n" % msg)
    sys.stderr.flush()


def first_flight(cli):
    """What the client sends until it has been quiet for QUIET seconds."""
    data = b""
    deadline = time.monotonic() + STEP
    while time.monotonic() < deadline:
        r, _, _ = select.select([cli], [], [], QUIET if data else STEP)
        if not r:
            if data:
                return data
            continue
        chunk = cli.recv(65536)
        if not chunk:
            return data
        data += chunk
    return data


def relay(cli, srv, recorded):
    """Relay both ways until both sides have closed; returns (recorded, up, down):
    recorded grows by what the client sends before the server's first byte."""
    up = len(recorded)
    down = 0
    open_ = {cli: srv, srv: cli}
    deadline = time.monotonic() + STEP
    while open_ and time.monotonic() < deadline:
        r, _, _ = select.select(list(open_), [], [], 1.0)
        # the client's bytes first: what it sent before the server answered is recorded
        for s in sorted(r, key=lambda s: s is not cli):
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            peer = open_[s]
            if not chunk:
                del open_[s]
                try:
                    peer.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            if s is cli:
                up += len(chunk)
                if down == 0:
                    recorded += chunk
            else:
                down += len(chunk)
            try:
                peer.sendall(chunk)
            except OSError:
                del open_[s]
    return recorded, up, down


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: replay_proxy.py HOST PORT\n")
        return 2
    target = (sys.argv[1], int(sys.argv[2]))
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    print(lst.getsockname()[1], flush=True)

    lst.settimeout(STEP)
    try:
        cli, _ = lst.accept()
    except socket.timeout:
        log("no client came")
        return 1
    lst.close()
    recorded = first_flight(cli)
    if not recorded:
        log("the client sent nothing")
        return 1
    srv = socket.create_connection(target, timeout=STEP)
    srv.sendall(recorded)
    recorded, up, down = relay(cli, srv, recorded)
    cli.close()
    srv.close()
    log("relayed %d bytes up, %d down; recorded %d bytes before the server's first byte"
        % (up, down, len(recorded)))

    # the replay: the recorded flight again, on a new connection
    rep = socket.create_connection(target, timeout=STEP)
    rep.sendall(recorded)
    got = 0
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        r, _, _ = select.select([rep], [], [], 0.5)
        if not r:
            if got:
                break
            continue
        try:
            chunk = rep.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        got += len(chunk)
    rep.close()
    log("replayed %d bytes, got %d back" % (len(recorded), got))
    return 0


if __name__ == "__main__":
    sys.exit(main())
