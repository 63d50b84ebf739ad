#!/usr/bin/python3
"""oak-root's REST API under bad requests, against a running oak-root.

Starts oak-root as test_api.py does (its Root class: free loopback ports, a
temporary state directory, an unreachable broker) and sends it what a
careless or hostile client sends:
  - invalid JSON, wrong types and odd shapes on every route that takes a
    body: a clear 4xx as JSON ({"message", "status"}), never a 5xx;
  - huge bodies (413, by Content-Length and chunked), a huge path, huge
    and many headers: a 4xx, no crash;
  - slow clients: connections that send their header one byte a second,
    while another client's requests are timed (their latency must stay
    that of an idle server);
  - thousands of concurrent connections from wrk on loopback, on a cheap
    route, an authenticated route and an invalid-JSON POST;
and checks oak-root is alive after each, its RSS before and after the wrk
rounds (flat: measured after a warm-up round), and that it still answers.

usage: test_badreq.py OAK_ROOT_BINARY SLA_DATA_DIR
Prints one line per check, the figures measured, and "N checks, M failed".
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api as api  # noqa: E402  (its Root, check and sla helpers)

check = api.check
ADMIN_PW = "admin-secret-1"
WRK_CONNS = int(os.environ.get("OAK_BADREQ_CONNS", "2000"))
WRK_SECONDS = int(os.environ.get("OAK_BADREQ_SECONDS", "5"))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def alive(r, what):
    st, body, _ = r.req("GET", "/api/openapi.json", record=False)
    return check("oak-root alive and answering after %s" % what,
                 r.proc.poll() is None and st == 200, "exit %s, status %s" % (r.proc.poll(), st))


def is_clear_4xx(st, body):
    return 400 <= st < 500 and isinstance(body, dict) and isinstance(body.get("message"), str) \
        and body.get("status") == st


def login(r, user, pw):
    st, body, _ = r.req("POST", "/api/auth/login", {"username": user, "password": pw})
    return body["token"] if st == 200 else None


# ------------------------------------------------------------ invalid JSON, wrong types

BAD_JSON = [
    b"{", b"}", b"[", b"{\"a\":", b"{\"a\" 1}", b"nul", b"{'a': 1}", b"\xff\xfe{}",
    b"{\"a\":\"\xc3\x28\"}", b"{\"a\":1,\"a\":2}", b"\x00", b"{\"a\":\"\\ud800\"}",
    b"[" * 100000 + b"]" * 100000, b"{\"a\":1}garbage", b"1e999999",
]
WRONG_SHAPES = [b"[]", b"null", b"\"text\"", b"12", b"true", b"{}", b"[{}]"]


def routes(ids):
    aid, sid = ids
    return [("POST", "/api/auth/login"), ("POST", "/api/auth/register"),
            ("POST", "/api/application"), ("PUT", "/api/application/" + aid),
            ("PUT", "/api/service/" + sid), ("POST", "/api/service/%s/instance" % sid),
            ("PUT", "/api/user/alice"), ("POST", "/api/user/alice"),
            ("POST", "/api/organization"), ("PUT", "/api/organization/0123456789abcdef01234567")]


WRONG_TYPES = {
    "/api/auth/login": [{"username": 1, "password": "x"}, {"username": "Admin", "password": None},
                        {"username": ["Admin"], "password": {"a": 1}}],
    "/api/auth/register": [{"username": 5, "password": "pw-long-enough"},
                           {"username": "bob", "password": "pw-long-enough", "roles": "Admin"},
                           {"username": "bob", "password": "pw-long-enough", "roles": [1]}],
    "/api/application": [api.sla("x1", services=[api.svc("s", memory="lots")]),
                         api.sla("x2", services=[api.svc("s", vcpus=-1)]),
                         api.sla("x3", services=[api.svc("s", port=8080)]),
                         api.sla("x4", services=[api.svc("s", port="99999:1")]),
                         api.sla("x5", services=[api.svc("s", cmd="sh -c x")]),
                         {"sla_version": "v2.0", "applications": {}},
                         {"sla_version": 2, "applications": []},
                         api.sla("x6", services=[api.svc("s", constraints=[{"type": 3}])]),
                         api.sla("x7", services=[api.svc("s", memory=1e308)]),
                         api.sla("x8", services=[api.svc("s", memory=2 ** 63)])],
    "instance": [{"replicas": "3"}, {"replicas": -1}, {"replicas": 1.5}, {"replicas": 2 ** 40}],
    "service": [{"memory": "x"}, {"replicas": []}, {"code": 7}],
    "user": [{"email": 3}, {"roles": "Admin"}, {"oldPassword": 1, "newPassword": 2}],
    "org": [{"name": 1}, {"name": "ok", "members": "alice"}, {"members": [1, 2]}],
}


def json_cases(r, admin, alice, ids):
    bad = []
    n = 0
    for method, path in routes(ids):
        tok = admin if "organization" in path or "register" in path else alice
        for raw in BAD_JSON + WRONG_SHAPES:
            st, body, _ = r.req(method, path, raw=raw, token=tok, record=False)
            n += 1
            # a shape that is valid JSON may be accepted where the body is optional
            if raw in WRONG_SHAPES and st < 300:
                continue
            if not is_clear_4xx(st, body):
                bad.append("%s %s %r: %s %s" % (method, path, raw[:20], st, str(body)[:80]))
    check("invalid JSON and wrong shapes on %d body routes (%d requests): clear 4xx" %
          (len(routes(ids)), n), not bad, "\n  " + "\n  ".join(bad[:10]))
    bad = []
    n = 0
    aid, sid = ids
    for key, bodies in WRONG_TYPES.items():
        method, path, tok = {
            "instance": ("POST", "/api/service/%s/instance" % sid, alice),
            "service": ("PUT", "/api/service/" + sid, alice),
            "user": ("PUT", "/api/user/alice", alice),
            "org": ("POST", "/api/organization", admin),
        }.get(key, ("POST", key, admin))
        for b in bodies:
            st, body, _ = r.req(method, path, b, token=tok, record=False)
            n += 1
            if not is_clear_4xx(st, body):
                bad.append("%s %s %s: %s %s" % (method, path, json.dumps(b)[:60], st, str(body)[:100]))
        if key == "user":  # the password route too
            for b in bodies:
                st, body, _ = r.req("POST", "/api/user/alice", b, token=alice, record=False)
                n += 1
                if not is_clear_4xx(st, body):
                    bad.append("POST /api/user/alice %s: %s %s" % (json.dumps(b)[:60], st, str(body)[:100]))
    check("wrong types (%d requests): clear 4xx" % n, not bad, "\n  " + "\n  ".join(bad[:10]))
    alive(r, "bad JSON")


# ------------------------------------------------------------ huge requests

def raw_exchange(r, data, timeout=10):
    s = socket.create_connection(("127.0.0.1", r.port), timeout)
    try:
        s.sendall(data)
    except OSError:
        pass
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                m = re.search(rb"Content-Length: *(\d+)", head, re.I)
                if m and len(rest) >= int(m.group(1)):
                    break
                if not m:
                    break
    except OSError:
        pass
    s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", out)
    return (int(m.group(1)) if m else None), out


def huge_cases(r, admin):
    st, out = raw_exchange(r, b"POST /api/application HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                           + admin.encode() + b"\r\nContent-Length: 1000000000\r\n\r\n{")
    check("a body announced at 1 GB: 413 at once", st == 413 and b'"status":413' in out, out[:100])
    st, out = raw_exchange(r, b"GET /api/" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    check("a 200 kB path: a 4xx (%s)" % st, st is not None and 400 <= st < 500, out[:100])
    st, out = raw_exchange(r, b"GET /api/openapi.json HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 200000
                           + b"\r\n\r\n")
    check("a 200 kB header: a 4xx (%s)" % st, st is not None and 400 <= st < 500, out[:100])
    st, out = raw_exchange(r, b"GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n"
                           + b"".join(b"X-H%d: v\r\n" % i for i in range(5000)) + b"\r\n")
    check("5000 headers: a 4xx (%s)" % st, st is not None and 400 <= st < 500, out[:100])
    st, out = raw_exchange(r, b"POST /api/application HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                           + admin.encode() + b"\r\nContent-Length: 10\r\nContent-Length: 99999999\r\n\r\n"
                           + b"0123456789")
    check("two Content-Lengths: a 4xx (%s)" % st, st is not None and 400 <= st < 500, out[:100])
    st, out = raw_exchange(r, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(300))
    check("a TLS hello on the plain port: closed or a 4xx (%s)" % st, st is None or 400 <= st < 500, out[:60])
    st, out = raw_exchange(r, b"GET /api/openapi.json HTTP/9.9\r\n\r\n")
    check("HTTP/9.9: a 4xx or 505 (%s)" % st, st is None or 400 <= st < 506, out[:60])
    alive(r, "huge requests")


# ------------------------------------------------------------ slow clients

def slow_client(r, stop, sent, idx):
    head = b"GET /api/openapi.json HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"s" * 400 + b"\r\n\r\n"
    try:
        s = socket.create_connection(("127.0.0.1", r.port), 5)
    except OSError:
        return
    i = 0
    try:
        while not stop.is_set() and i < len(head):
            s.send(head[i:i + 1])
            sent[idx] = i = i + 1
            stop.wait(1.0)
    except OSError:
        pass
    s.close()


def timed_requests(r, seconds):
    lat = []
    end = time.time() + seconds
    while time.time() < end:
        t = time.time()
        st, _, _ = r.req("GET", "/api/clusters/active", token=r.tok, record=False)
        lat.append((time.time() - t, st))
        time.sleep(0.05)
    return lat


def slow_cases(r):
    base = timed_requests(r, 2)
    stop = threading.Event()
    n_slow = 200
    sent = [0] * n_slow
    th = [threading.Thread(target=slow_client, args=(r, stop, sent, i)) for i in range(n_slow)]
    for t in th:
        t.start()
    time.sleep(1.5)
    during = timed_requests(r, 6)
    stop.set()
    for t in th:
        t.join()
    b_med = sorted(x for x, _ in base)[len(base) // 2] * 1000
    d_sorted = sorted(x for x, _ in during)
    d_med, d_max = d_sorted[len(d_sorted) // 2] * 1000, d_sorted[-1] * 1000
    print("     latency of GET /api/clusters/active: idle median %.1f ms; with %d clients sending "
          "a header byte a second: median %.1f ms, max %.1f ms (%d requests; slow clients sent %d bytes "
          "each on average)" % (b_med, n_slow, d_med, d_max, len(during), sum(sent) // n_slow))
    check("%d slow clients (a header byte a second) do not block another client: every request "
          "answered 200, max latency %.0f ms < 250 ms" % (n_slow, d_max),
          all(st == 200 for _, st in during) and d_max < 250, str(during[:5]))
    alive(r, "slow clients")


# ------------------------------------------------------------ wrk

def wrk(r, path, conns, seconds, script=None, token=None):
    cmd = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "--timeout", "10s", "--latency"]
    if token:
        cmd += ["-H", "Authorization: Bearer " + token]
    if script:
        cmd += ["-s", script]
    cmd.append("http://127.0.0.1:%d%s" % (r.port, path))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    out = p.stdout
    res = {"out": out, "rc": p.returncode}
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["errors"] = tuple(int(x) for x in m.groups()) if m else (0, 0, 0, 0)
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    res["p99_ms"] = (float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]) if m else None
    return res


def wrk_cases(r, admin):
    tmp = tempfile.mkdtemp(prefix="oak-wrk-")
    lua = os.path.join(tmp, "badjson.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = "{\\"sla_version\\": [1, 2"\n'
                'wrk.headers["Content-Type"] = "application/json"\n')
    pid = r.proc.pid
    rss_start = rss_kb(pid)
    rounds = [("GET /api/openapi.json", "/api/openapi.json", None, None),
              ("GET /api/clusters/active (token)", "/api/clusters/active", None, admin),
              ("POST /api/application, invalid JSON (token)", "/api/application", lua, admin)]
    # warm-up: one short round of each at full concurrency (the allocator's
    # high-water mark: SQLite's cache, MHD's per-connection pools, arenas)
    for _, path, script, tok in rounds:
        wrk(r, path, WRK_CONNS, WRK_SECONDS, script, tok)
    time.sleep(1)
    rss0 = rss_kb(pid)
    for name, path, script, tok in rounds:
        res = wrk(r, path, WRK_CONNS, WRK_SECONDS, script, tok)
        want_4xx = script is not None
        print("     wrk -c%d %ds %s: %d requests, %.0f req/s, p99 %s ms, non-2xx %d, socket errors "
              "connect/read/write/timeout %s" % (WRK_CONNS, WRK_SECONDS, name, res["requests"], res["rps"],
                                                  res["p99_ms"], res["non2xx"], res["errors"]))
        ok_status = (res["non2xx"] == res["requests"]) if want_4xx else (res["non2xx"] == 0)
        check("wrk %d connections, %s: answers (%d), %s" % (
            WRK_CONNS, name, res["requests"], "all 4xx" if want_4xx else "no error status"),
            res["rc"] == 0 and res["requests"] > 0 and ok_status and res["errors"][3] == 0,
            res["out"][-600:])
        if not alive(r, "wrk " + name):
            break
    # the answer to the invalid POST is a 400 with a message
    st, body, _ = r.req("POST", "/api/application", raw=b'{"sla_version": [1, 2', token=admin, record=False)
    check("the invalid POST wrk sent answers 400 with a message", st == 400 and is_clear_4xx(st, body), str(body))
    for _, path, script, tok in rounds:  # and the lot once more
        wrk(r, path, WRK_CONNS, WRK_SECONDS, script, tok)
    time.sleep(1)
    rss1 = rss_kb(pid)
    print("     RSS of oak-root: %d kB at start, %d kB after the warm-up, %d kB after %d more wrk "
          "rounds of %d s (%+d kB)" % (rss_start, rss0, rss1, 2 * len(rounds), WRK_SECONDS, rss1 - rss0))
    check("RSS flat across the wrk rounds (%+d kB, within 2 MB)" % (rss1 - rss0), abs(rss1 - rss0) < 2048)
    shutil.rmtree(tmp)


def main():
    tmp = tempfile.mkdtemp(prefix="oak-badreq-")
    r = api.Root(os.path.join(tmp, "main"))
    os.makedirs(r.state)
    out = r.init_admin(ADMIN_PW)
    check("--init-admin", out.returncode == 0, out.stdout + out.stderr)
    r.start()
    try:
        admin = login(r, "Admin", ADMIN_PW)
        check("admin login", admin is not None)
        st, _, _ = r.req("POST", "/api/auth/register",
                         {"username": "alice", "password": "alice-secret-1", "email": "a@x", "roles": []},
                         token=admin)
        alice = login(r, "alice", "alice-secret-1")
        st, apps, _ = r.req("POST", "/api/application", api.sla("badreq"), token=alice)
        check("alice and her application", alice is not None and st == 200, str(apps)[:200])
        aid = apps[0]["applicationID"]
        sid = apps[0]["microservices"][0]
        r.tok = admin
        json_cases(r, admin, alice, (aid, sid))
        huge_cases(r, admin)
        slow_cases(r)
        if shutil.which("wrk"):
            wrk_cases(r, admin)
        else:
            check("wrk installed (tools/deps.sh)", False)
    finally:
        code = r.stop()
        check("oak-root stops cleanly on SIGTERM (exit %s)" % code, code == 0)
        subprocess.run(["rm", "-rf", tmp])
    print("%d checks, %d failed%s" % (api.checks["n"], len(api.checks["failed"]),
                                     (": " + ", ".join(api.checks["failed"])) if api.checks["failed"] else ""))
    return 1 if api.checks["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
