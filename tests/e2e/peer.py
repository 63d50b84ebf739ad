#!/usr/bin/env python3
"""Test peer that runs inside instance namespaces.

  peer.py serve NAME            TCP 8080 answers NAME; UDP 9090 answers NAME;
                                TCP 5001 reads until EOF and answers
                                "<sha256> <bytes>"
  peer.py ask-tcp IP [PORT]     print the name a TCP server answers
  peer.py ask-udp IP [PORT]     print the name a UDP server answers
  peer.py send IP BYTES [SECS]  send BYTES of seeded random data to IP:5001,
                                spread over SECS; exit 0 only if the server
                                saw exactly the same bytes (hash and count)
"""
import hashlib
import os
import socket
import sys
import threading
import time


def serve(name):
    def tcp_name():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", 8080))
        s.listen(128)
        while True:
            c, _ = s.accept()
            try:
                c.sendall((name + "\n").encode())
            finally:
                c.close()

    def udp_name():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 9090))
        while True:
            _, addr = s.recvfrom(2048)
            s.sendto((name + "\n").encode(), addr)

    def sink_conn(c):
        h, n = hashlib.sha256(), 0
        try:
            while True:
                b = c.recv(1 << 16)
                if not b:
                    break
                h.update(b)
                n += len(b)
            c.sendall(("%s %d\n" % (h.hexdigest(), n)).encode())
        finally:
            c.close()

    def sink():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", 5001))
        s.listen(16)
        while True:
            c, _ = s.accept()
            threading.Thread(target=sink_conn, args=(c,), daemon=True).start()

    for f in (tcp_name, udp_name, sink):
        threading.Thread(target=f, daemon=True).start()
    print("serving", name, flush=True)
    while True:
        time.sleep(3600)


def ask_tcp(ip, port=8080):
    with socket.create_connection((ip, int(port)), timeout=5) as s:
        print(s.makefile().readline().strip())


def ask_udp(ip, port=9090):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(b"who", (ip, int(port)))
    print(s.recvfrom(2048)[0].decode().strip())


def send(ip, nbytes, secs=0):
    nbytes, secs = int(nbytes), float(secs)
    chunk = hashlib.sha256(b"oak").digest() * 2048  # 64 KiB, not compressible by accident
    chunk = bytes((b ^ i) & 0xFF for i, b in enumerate(os.urandom(0) + chunk))
    h, sent = hashlib.sha256(), 0
    start = time.monotonic()
    with socket.create_connection((ip, 5001), timeout=10) as s:
        while sent < nbytes:
            part = chunk[: min(len(chunk), nbytes - sent)]
            s.sendall(part)
            h.update(part)
            sent += len(part)
            if secs:
                ahead = start + secs * sent / nbytes - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(30)
        reply = s.makefile().readline().split()
    ok = reply == [h.hexdigest(), str(sent)]
    print("sent %d bytes in %.1fs, server saw %s: %s" %
          (sent, time.monotonic() - start, " ".join(reply), "ok" if ok else "MISMATCH"))
    return 0 if ok else 1


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve(*args)
    elif cmd == "ask-tcp":
        ask_tcp(*args)
    elif cmd == "ask-udp":
        ask_udp(*args)
    elif cmd == "send":
        sys.exit(send(*args))
    else:
        sys.exit(__doc__)
