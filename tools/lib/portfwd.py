#!/usr/bin/python3
"""TCP port forward from this network namespace into another one.

  portfwd.py LISTEN_ADDR LISTEN_PORT NETNS_PATH TARGET_ADDR TARGET_PORT

Binds LISTEN_ADDR:LISTEN_PORT in the namespace it is started in (the
machine's own, for oak-local: 127.0.0.1), then moves itself into NETNS_PATH
(setns). A socket keeps the namespace it was made in, so the listener stays
where it was bound while every connection it opens to TARGET starts in the
fleet's namespace. No route or address is added anywhere: the forward is the
only way in, like kind's port mappings. One thread, one select loop.
"""
import ctypes
import os
import selectors
import socket
import sys

CLONE_NEWNET = 0x40000000
BUF = 1 << 16


def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns %s: %s" % (path, os.strerror(err)))
    finally:
        os.close(fd)


class Pipe:
    """One forwarded connection: two sockets and what is pending for each."""

    def __init__(self, sel, a, b):
        self.sel, self.a, self.b = sel, a, b
        self.out = {a: b"", b: b""}
        self.eof = {a: False, b: False}
        self.ev = {a: 0, b: 0}
        self.closed = False
        for s in (a, b):
            s.setblocking(False)
            self.update(s)

    def other(self, s):
        return self.b if s is self.a else self.a

    def update(self, s):
        ev = 0
        if not self.eof[s] and len(self.out[self.other(s)]) < 4 * BUF:
            ev |= selectors.EVENT_READ
        if self.out[s]:
            ev |= selectors.EVENT_WRITE
        if ev == self.ev[s]:
            return
        if not ev:
            self.sel.unregister(s)
        elif not self.ev[s]:
            self.sel.register(s, ev, self)
        else:
            self.sel.modify(s, ev, self)
        self.ev[s] = ev

    def close(self):
        self.closed = True
        for s in (self.a, self.b):
            if self.ev[s]:
                self.sel.unregister(s)
                self.ev[s] = 0
            s.close()

    def event(self, s, mask):
        if self.closed:
            return
        o = self.other(s)
        try:
            if mask & selectors.EVENT_READ:
                data = s.recv(BUF)
                if data:
                    self.out[o] += data
                else:
                    self.eof[s] = True
                    if not self.out[o]:
                        o.shutdown(socket.SHUT_WR)
            if mask & selectors.EVENT_WRITE and self.out[s]:
                n = s.send(self.out[s])
                self.out[s] = self.out[s][n:]
                if not self.out[s] and self.eof[o]:
                    s.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()
            return
        if self.eof[self.a] and self.eof[self.b] and not any(self.out.values()):
            self.close()
            return
        self.update(self.a)
        self.update(self.b)


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    laddr, lport, nspath, taddr, tport = sys.argv[1:]
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        ls.bind((laddr, int(lport)))
    except OSError as e:
        sys.exit("portfwd: %s:%s: %s" % (laddr, lport, e.strerror))
    ls.listen(128)
    setns(nspath)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    print("portfwd: %s:%s -> %s %s:%s" % (laddr, lport, nspath, taddr, tport), flush=True)
    while True:
        for key, mask in sel.select():
            if key.data is None:
                c, _ = ls.accept()
                t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    t.settimeout(2)
                    t.connect((taddr, int(tport)))
                except OSError:
                    c.close()
                    t.close()
                    continue
                for s in (c, t):
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                Pipe(sel, c, t)
            else:
                key.data.event(key.fileobj, mask)


if __name__ == "__main__":
    main()
