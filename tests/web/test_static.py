#!/usr/bin/python3
"""oak-root serving the dashboard's files (control/root/web.c) over real
HTTP, without a broker: every file of the web root with its Content-Type,
HEAD, security headers, the API untouched under /api/, and everything that
must not be served (traversal raw and escaped, hidden files, unknown
extensions, directories, a symbolic link, a web root elsewhere via the
web_root key, web_root = off).

    test_static.py OAK_ROOT_BINARY WEB_SOURCE_DIR
"""
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN, SRC = sys.argv[1], sys.argv[2]
checks = {"n": 0, "failed": []}


def check(name, cond, detail=""):
    checks["n"] += 1
    print(("ok   - " if cond else "FAIL - ") + name + ("" if cond or not detail else ": " + str(detail)))
    if not cond:
        checks["failed"].append(name)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Root:
    def __init__(self, state, *extra):
        self.port = free_port()
        self.log = open(os.path.join(state, "oak-root.log"), "a")
        self.proc = subprocess.Popen(
            [BIN, "--state_dir", state, "--http_addr", "127.0.0.1", "--http_port", str(self.port),
             "--root_broker_port", str(free_port()), "--log_level", "info"] + list(extra),
            stdout=self.log, stderr=self.log)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("oak-root did not listen")

    def get(self, path, method="GET"):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.putrequest(method, path, skip_accept_encoding=True)  # the path exactly as given
        c.endheaders()
        r = c.getresponse()
        body = r.read()
        h = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, h, body

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)
        self.log.close()


def main():
    tmp = tempfile.mkdtemp(prefix="oak-web-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp)
    print("%d checks, %d failed%s" % (checks["n"], len(checks["failed"]),
                                     (": " + ", ".join(checks["failed"])) if checks["failed"] else ""))
    return 1 if checks["failed"] else 0


def run(tmp):
    types = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    # a web root of our own: the source files, a secret beside it, a link out, a subfolder
    web = os.path.join(tmp, "web")
    shutil.copytree(SRC, web)
    with open(os.path.join(tmp, "secret.txt"), "w") as f:
        f.write("secret\n")
    with open(os.path.join(web, ".hidden.txt"), "w") as f:
        f.write("hidden\n")
    os.symlink(os.path.join(tmp, "secret.txt"), os.path.join(web, "link.txt"))
    os.makedirs(os.path.join(web, "sub.css"))
    os.makedirs(os.path.join(web, "docs"))
    with open(os.path.join(web, "docs", "index.html"), "w") as f:
        f.write("<p>docs</p>\n")
    state = os.path.join(tmp, "state")
    os.makedirs(state)

    r = Root(state, "--web_root", web)
    try:
        st, h, body = r.get("/")
        check("/ is index.html", st == 200 and body == open(os.path.join(SRC, "index.html"), "rb").read())
        for name in sorted(os.listdir(SRC)):
            ext = os.path.splitext(name)[1]
            st, h, body = r.get("/" + name)
            check("/%s: 200 as %s, the file's bytes" % (name, types.get(ext)),
                  st == 200 and h.get("content-type", "").startswith(types.get(ext, "?"))
                  and body == open(os.path.join(SRC, name), "rb").read(), (st, h.get("content-type")))
        st, h, body = r.get("/app.js", "HEAD")
        check("HEAD: 200, the length, no body", st == 200 and not body and
              int(h.get("content-length", -1)) == os.path.getsize(os.path.join(SRC, "app.js")), h)
        st, h, _ = r.get("/index.html")
        check("files carry nosniff, a same-origin CSP and no CORS header",
              h.get("x-content-type-options") == "nosniff" and "default-src 'self'" in
              h.get("content-security-policy", "") and "access-control-allow-origin" not in h, h)
        st, _, body = r.get("/docs/")
        check("a folder's index.html for a path ending in /", st == 200 and b"docs" in body)
        for path in ("/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
                     "/docs/%2e%2e/%2e%2e/secret.txt", "//etc/passwd", "/.hidden.txt", "/link.txt",
                     "/sub.css", "/docs", "/nothing.html", "/oak-root.log", "/index.html%00.js",
                     "/docs/./index.html", "/..\\secret.txt"):
            st, h, body = r.get(path)
            check("%s: 404, nothing of the file" % path, st == 404 and b"secret" not in body
                  and b"hidden" not in body, (st, body[:60]))
        st, h, body = r.get("/api/nothing/here")
        check("/api/ stays the API: a 404 as JSON", st == 404 and h.get("content-type") == "application/json")
        st, h, body = r.get("/api/openapi.json")
        check("/api/openapi.json still answers", st == 200 and b'"openapi"' in body)
        c = http.client.HTTPConnection("127.0.0.1", r.port, timeout=10)
        c.request("POST", "/index.html", body=b"{}", headers={"Content-Type": "application/json"})
        resp = c.getresponse()
        resp.read()
        c.close()
        check("POST to a file's path is not served (404 as JSON)", resp.status == 404)
    finally:
        r.stop()

    r = Root(state, "--web_root", "off")
    try:
        st, h, _ = r.get("/")
        check("web_root = off: / is the API's 404", st == 404 and h.get("content-type") == "application/json")
    finally:
        r.stop()
    r = Root(state, "--web_root", os.path.join(tmp, "missing"))
    try:
        st, _, _ = r.get("/")
        st2, _, _ = r.get("/api/openapi.json")
        log = open(os.path.join(state, "oak-root.log")).read()
        check("a missing web root: the API answers, the log says why the dashboard is off",
              st == 404 and st2 == 200 and "dashboard off" in log)
    finally:
        r.stop()
    r = Root(state)
    try:
        st, _, body = r.get("/app.js")
        check("default web root from the build tree: the source folder",
              st == 200 and body == open(os.path.join(SRC, "app.js"), "rb").read())
    finally:
        r.stop()


if __name__ == "__main__":
    sys.exit(main())
