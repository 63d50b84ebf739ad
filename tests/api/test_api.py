#!/usr/bin/python3
"""oak-root's REST API against a running oak-root, with real HTTP requests.

Starts its own oak-root on free loopback ports with a temporary state
directory and an unreachable root broker (the REST API must answer without
it), and checks every route, every error status, tokens (claims, expiry,
refresh), ownership, body limits, CORS, the OpenAPI document against every
answer seen, and durability: SIGKILL during a burst of POSTs, then restart.

usage: test_api.py OAK_ROOT_BINARY SLA_DATA_DIR
"""
import base64
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN, DATA = sys.argv[1], sys.argv[2]
ADMIN_PW = "admin-secret-1"
checks = {"n": 0, "failed": []}
seen = []  # (method, path, status, body) of every answer, for the OpenAPI check


def check(name, cond, detail=""):
    checks["n"] += 1
    if cond:
        print("ok   %s" % name)
    else:
        checks["failed"].append(name)
        print("FAIL %s %s" % (name, detail))
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Root:
    """One oak-root process on its own state dir and port."""

    def __init__(self, state, extra=()):
        self.state, self.extra = state, list(extra)
        self.port = free_port()
        self.broker = free_port()  # nothing listens there
        self.proc = None

    def args(self):
        return [BIN, "--state_dir", self.state, "--http_addr", "127.0.0.1",
                "--http_port", str(self.port), "--root_broker_port", str(self.broker),
                "--log_level", "info"] + self.extra

    def init_admin(self, password=None):
        a = self.args() + ["--init-admin"] + (["--admin-password", password] if password else [])
        return subprocess.run(a, capture_output=True, text=True, timeout=30)

    def start(self):
        self.log = open(os.path.join(self.state, "oak-root.log"), "a")
        self.proc = subprocess.Popen(self.args(), stdout=self.log, stderr=self.log)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("oak-root did not listen")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.log.close()
        return self.proc.returncode

    def req(self, method, path, body=None, token=None, raw=None, headers=None, record=True,
            source=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20,
                                       source_address=(source, 0) if source else None)
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        try:
            js = json.loads(text) if text else None
        except ValueError:
            js = ("not json", text[:200])
        if record:
            seen.append((method, path, r.status, js))
        return r.status, js, hdrs


def jwt_claims(tok):
    p = tok.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def sla(name, ns="test", services=None):
    return {"sla_version": "v2.0", "customerID": "x", "applications": [{
        "applicationID": "", "application_name": name, "application_namespace": ns,
        "application_desc": "test", "microservices": services or [svc("s1")]}]}


def svc(name, **kw):
    s = {"microserviceID": "", "microservice_name": name, "microservice_namespace": "test",
         "virtualization": "container", "code": "docker.io/library/nginx:latest",
         "memory": 100, "vcpus": 1}
    s.update(kw)
    return s


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return json.load(f)


# ------------------------------------------------------------ the OpenAPI check

def deref(doc, s):
    while isinstance(s, dict) and "$ref" in s:
        node = doc
        for part in s["$ref"][2:].split("/"):
            node = node[part]
        s = node
    return s


def validate(doc, s, v, where="$"):
    """The subset of JSON Schema the document uses; returns a list of errors."""
    s = deref(doc, s)
    errs = []
    t = s.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool}
    if t in types and not isinstance(v, types[t]):
        return ["%s: expected %s, got %s" % (where, t, type(v).__name__)]
    if t == "integer" and (not isinstance(v, int) or isinstance(v, bool)):
        return ["%s: expected integer" % where]
    if t == "number" and (not isinstance(v, (int, float)) or isinstance(v, bool)):
        return ["%s: expected number" % where]
    if "enum" in s and v not in s["enum"]:
        errs.append("%s: %r not in enum" % (where, v))
    if "pattern" in s and isinstance(v, str) and not re.search(s["pattern"], v):
        errs.append("%s: %r does not match %s" % (where, v, s["pattern"]))
    if "minimum" in s and isinstance(v, (int, float)) and v < s["minimum"]:
        errs.append("%s: below minimum" % where)
    if isinstance(v, dict):
        for k in s.get("required", []):
            if k not in v:
                errs.append("%s: missing %s" % (where, k))
        for k, sub in s.get("properties", {}).items():
            if k in v:
                errs += validate(doc, sub, v[k], where + "." + k)
        if "not" in s and not validate(doc, s["not"], v, where):
            errs.append("%s: matches a forbidden shape %s" % (where, s["not"]))
    if isinstance(v, list) and "items" in s:
        for i, e in enumerate(v):
            errs += validate(doc, s["items"], e, "%s[%d]" % (where, i))
    return errs


def template_of(doc, path):
    """The documented path template of a request path (literal segments win)."""
    segs = (path.split("?")[0].rstrip("/") or "/").split("/")
    best = None
    for tpl in doc["paths"]:
        ts = tpl.split("/")
        if len(ts) != len(segs):
            continue
        if all(a == b or (a.startswith("{") and b) for a, b in zip(ts, segs)):
            lits = sum(1 for a in ts if not a.startswith("{"))
            if best is None or lits > best[0]:
                best = (lits, tpl)
    return best[1] if best else None


def openapi_check(doc):
    bad, used = [], set()
    for method, path, status, body in seen:
        tpl = template_of(doc, path)
        if tpl is None:
            if status != 404 and status != 405:
                bad.append("%s %s: not in the document" % (method, path))
            continue
        op = doc["paths"][tpl].get(method.lower())
        if op is None:
            if status != 405:
                bad.append("%s %s: method not documented" % (method, tpl))
            continue
        used.add((method.lower(), tpl))
        resp = op["responses"].get(str(status))
        if resp is None:
            bad.append("%s %s: status %d not documented" % (method, tpl, status))
            continue
        resp = deref(doc, resp)
        schema = resp["content"]["application/json"]["schema"]
        errs = validate(doc, schema, body)
        if errs:
            bad.append("%s %s %d: %s" % (method, tpl, status, "; ".join(errs[:3])))
    missing = [(m, p) for p, ops in doc["paths"].items() for m in ops if (m, p) not in used]
    return bad, missing


# ------------------------------------------------------------ the cases

def auth_cases(r):
    st, doc, h = r.req("GET", "/api/openapi.json")
    check("openapi document served without a token", st == 200 and doc.get("openapi", "").startswith("3."))
    st, _, h = r.req("OPTIONS", "/api/application/", record=False,
                     headers={"Origin": "http://dash:80", "Access-Control-Request-Method": "POST",
                              "Access-Control-Request-Headers": "authorization, content-type"})
    check("CORS preflight answered", st in (200, 204) and h.get("access-control-allow-origin") == "*"
          and "Authorization" in h.get("access-control-allow-headers", "")
          and "POST" in h.get("access-control-allow-methods", ""), str(h))
    st, body, _ = r.req("POST", "/api/auth/login", {"username": "Admin", "password": "wrong"})
    check("login with a wrong password: 401", st == 401 and body["status"] == 401)
    st, body, _ = r.req("POST", "/api/auth/login", {"username": "Admin"})
    check("login without password: 400 naming it", st == 400 and body.get("field") == "password")
    st, body, _ = r.req("POST", "/api/auth/login", raw=b"{not json")
    check("malformed JSON body: 400", st == 400 and body.get("field") == "payload")
    st, body, h = r.req("POST", "/api/auth/login/", {"username": "Admin", "password": ADMIN_PW})
    ok = check("login (trailing slash): token and refresh token", st == 200 and "token" in body and "refresh_token" in body)
    check("answers carry CORS and JSON headers", h.get("access-control-allow-origin") == "*"
          and h.get("content-type", "").startswith("application/json"))
    if not ok:
        raise SystemExit("cannot log in")
    c = jwt_claims(body["token"])
    check("access token claims: sub, exp, roles, organization", c.get("sub") == "Admin"
          and "Admin" in c.get("roles", []) and c.get("organization") and c["exp"] - c["iat"] == 600
          and c.get("type") == "access", str(c))
    rc = jwt_claims(body["refresh_token"])
    check("refresh token lives 7 days", rc["exp"] - rc["iat"] == 7 * 86400 and rc["type"] == "refresh")
    admin, refresh = body["token"], body["refresh_token"]
    st, body, _ = r.req("GET", "/api/applications/")
    check("no token: 401", st == 401)
    st, body, _ = r.req("GET", "/api/applications/", token="abc.def.ghi")
    check("garbage token: 401", st == 401)
    forged = admin.split(".")
    forged[1] = base64.urlsafe_b64encode(json.dumps(dict(c, sub="Admin", exp=c["exp"] + 99999)).encode()).decode().rstrip("=")
    st, body, _ = r.req("GET", "/api/applications/", token=".".join(forged))
    check("token with a changed payload: 401", st == 401)
    none_tok = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=") + "." + forged[1] + "."
    st, body, _ = r.req("GET", "/api/applications/", token=none_tok)
    check("alg none token: 401", st == 401)
    st, body, _ = r.req("GET", "/api/applications/", token=refresh)
    check("refresh token as access token: 401", st == 401)
    st, body, _ = r.req("POST", "/api/auth/refresh", token=refresh)
    check("refresh: a new access token", st == 200 and jwt_claims(body["token"])["type"] == "access")
    st, body, _ = r.req("POST", "/api/auth/refresh", token=admin)
    check("refresh with an access token: 401", st == 401)
    return admin


def user_cases(r, admin):
    toks, ids = {}, {}
    for name in ("alice", "bob"):
        st, body, _ = r.req("POST", "/api/auth/register", {"username": name, "password": name + "-password",
                                                          "email": name + "@x", "roles": [{"name": "User"}]}, token=admin)
        check("register %s" % name, st == 200 and body["username"] == name and "password_hash" not in body
              and re.fullmatch("[0-9a-f]{24}", body["_id"]["$oid"]))
        ids[name] = body["_id"]["$oid"]
        st, body, _ = r.req("POST", "/api/auth/login", {"username": name, "password": name + "-password"})
        toks[name] = body["token"]
    check("a user's token has role User", jwt_claims(toks["alice"])["roles"] == ["User"])
    st, body, _ = r.req("POST", "/api/auth/register", {"username": "alice", "password": "another-password"}, token=admin)
    check("register a taken name: 409", st == 409 and body.get("field") == "username")
    st, body, _ = r.req("POST", "/api/auth/register", {"username": "carol", "password": "carol-password"}, token=toks["alice"])
    check("register by a non-Admin: 403", st == 403)
    st, body, _ = r.req("POST", "/api/auth/register", {"username": "carol", "password": "short"}, token=admin)
    check("register with a short password: 400", st == 400 and body.get("field") == "password")
    st, body, _ = r.req("GET", "/api/users/", token=admin)
    check("users list (Admin), no hashes", st == 200 and {"Admin", "alice", "bob"} <= {u["username"] for u in body}
          and all("password_hash" not in u for u in body))
    st, body, _ = r.req("GET", "/api/users", token=toks["alice"])
    check("users list by a User: 403", st == 403)
    st, body, _ = r.req("GET", "/api/user/alice", token=toks["alice"])
    check("own user document", st == 200 and body["_id"]["$oid"] == ids["alice"])
    st, body, _ = r.req("GET", "/api/user/alice", token=toks["bob"])
    check("another user's document: 403", st == 403)
    st, body, _ = r.req("GET", "/api/user/nobody", token=admin)
    check("missing user: 404", st == 404)
    st, body, _ = r.req("PUT", "/api/user/alice/", {"email": "alice@new"}, token=toks["alice"])
    check("update own email", st == 200 and body["email"] == "alice@new")
    st, body, _ = r.req("PUT", "/api/user/alice", {"roles": ["Admin"]}, token=toks["alice"])
    check("a User cannot give itself Admin: 403", st == 403)
    st, body, _ = r.req("PUT", "/api/user/alice", {"shoe_size": 4}, token=admin)
    check("unknown user field: 400 naming it", st == 400 and body.get("field") == "shoe_size")
    st, body, _ = r.req("POST", "/api/user/alice", {"oldPassword": "nope-nope", "newPassword": "alice-password-2"}, token=toks["alice"])
    check("password change with a wrong old one: 403", st == 403 and body.get("field") == "oldPassword")
    st, body, _ = r.req("POST", "/api/user/alice", {"oldPassword": "alice-password", "newPassword": "alice-password-2"}, token=toks["alice"])
    st2, _, _ = r.req("POST", "/api/auth/login", {"username": "alice", "password": "alice-password-2"})
    check("password change, login with the new one", st == 200 and st2 == 200)
    st, body, _ = r.req("DELETE", "/api/user/Admin", token=admin)
    check("the last Admin cannot be deleted: 409", st == 409)
    return toks, ids


def org_cases(r, admin, toks, ids):
    st, body, _ = r.req("POST", "/api/organization/", {"name": "edgeco", "members": []}, token=admin)
    ok = check("organization created", st == 200 and body["name"] == "edgeco")
    oid = body["_id"]["$oid"] if ok else "x"
    st, body, _ = r.req("POST", "/api/organization", {"name": "edgeco"}, token=admin)
    check("organization name taken: 409", st == 409 and body.get("field") == "name")
    login = {"username": "alice", "password": "alice-password-2", "organization_name": "edgeco"}
    st, body, _ = r.req("POST", "/api/auth/login", login)
    check("login to an organization one is not a member of: 401", st == 401
          and body.get("field") == "organization_name")
    st, body, _ = r.req("PUT", "/api/organization/" + oid, {"members": [ids["alice"]]}, token=admin)
    st2, body2, _ = r.req("POST", "/api/auth/login", login)
    check("login to an organization as a member: its name in the token", st == 200 and st2 == 200
          and jwt_claims(body2["token"])["organization"] == "edgeco")
    st, body, _ = r.req("POST", "/api/organization", {"name": "mine"}, token=toks["alice"])
    check("organization by a User: 403", st == 403)
    st, body, _ = r.req("GET", "/api/organization", token=toks["alice"])
    check("organizations listed", st == 200 and any(o["name"] == "edgeco" for o in body))
    st, body, _ = r.req("PUT", "/api/organization/" + oid, {"name": "edgeco2"}, token=admin)
    check("organization renamed", st == 200 and body["name"] == "edgeco2")
    st, body, _ = r.req("POST", "/api/organization", {"name": "edgeco"}, token=admin)
    check("old organization name free again", st == 200)
    st, body, _ = r.req("DELETE", "/api/organization/" + oid, token=admin)
    st2, _, _ = r.req("DELETE", "/api/organization/" + oid, token=admin)
    check("organization deleted, then 404", st == 200 and st2 == 404)


def count(r, admin, what):
    st, body, _ = r.req("GET", "/api/%s/" % what, token=admin, record=False)
    return len(body)


def app_cases(r, admin, toks, ids):
    alice, bob = toks["alice"], toks["bob"]
    st, body, _ = r.req("POST", "/api/application/", load("clientserver.json"), token=alice)
    ok = check("POST an SLA: the applications created", st == 200 and isinstance(body, list) and len(body) == 1
               and body[0]["application_name"] == "clientserver" and len(body[0]["microservices"]) == 2)
    if not ok:
        raise SystemExit("cannot register the SLA: %s" % body)
    app = body[0]
    check("ids: _id.$oid and applicationID, 24 hex", app["_id"]["$oid"] == app["applicationID"]
          and re.fullmatch("[0-9a-f]{24}", app["applicationID"]) and app["userId"] == ids["alice"])
    aid = app["applicationID"]
    st, body, _ = r.req("GET", "/api/services/" + aid, token=alice)
    check("services of the application", st == 200 and len(body) == 2)
    byname = {s["microservice_name"]: s for s in body}
    ng, cu = byname["nginx"], byname["curl"]
    check("service document: ids, job_name, RR_ip as the SLA asked, no instances yet",
          ng["_id"]["$oid"] == ng["microserviceID"] and ng["applicationID"] == aid
          and ng["job_name"] == "clientserver.test.nginx.test" and ng["RR_ip"] == "10.30.30.30"
          and ng["rr_ip"] == "10.30.30.30" and ng["instance_list"] == [] and ng["replicas"] == 0
          and ng["port"] == "6080:60/tcp", str(ng))
    check("Service IPs allocated in 10.30.0.0/16 when not asked for",
          all(re.fullmatch(r"10\.30\.\d+\.\d+", cu[k]) for k in ("rr_ip", "closest_ip"))
          and len({cu["rr_ip"], cu["closest_ip"], ng["rr_ip"], ng["closest_ip"]}) == 4)
    st, body, _ = r.req("GET", "/api/application/" + aid, token=alice)
    check("GET own application", st == 200 and body["applicationID"] == aid)
    st, body, _ = r.req("GET", "/api/application/" + aid, token=bob)
    check("another user's application: 403", st == 403)
    st, body, _ = r.req("GET", "/api/services/" + aid, token=bob)
    check("another user's services: 403", st == 403)
    st, body, _ = r.req("GET", "/api/service/" + ng["microserviceID"], token=bob)
    check("another user's service: 403", st == 403)
    st, body, _ = r.req("DELETE", "/api/application/" + aid, token=bob)
    check("deleting another user's application: 403", st == 403)
    st, body, _ = r.req("GET", "/api/application/" + aid, token=admin)
    check("Admin sees any application", st == 200)
    st, body, _ = r.req("GET", "/api/application/0123456789abcdef01234567", token=alice)
    check("missing application: 404", st == 404)
    st, body, _ = r.req("GET", "/api/applications", token=bob)
    check("a user lists only its own applications", st == 200 and body == [])
    st, body, _ = r.req("GET", "/api/applications/" + ids["alice"], token=alice)
    check("applications of a user by id", st == 200 and [a["applicationID"] for a in body] == [aid])
    st, body, _ = r.req("GET", "/api/applications/" + ids["alice"], token=bob)
    check("applications of another user: 403", st == 403)
    st, body, _ = r.req("GET", "/api/applications/" + ids["alice"], token=admin)
    check("Admin lists a user's applications", st == 200 and len(body) == 1)

    napps, nsvcs = count(r, admin, "applications"), count(r, admin, "services")
    st, body, _ = r.req("POST", "/api/application", load("clientserver.json"), token=alice)
    check("same application name again: 409 naming the field", st == 409
          and body.get("field") == "applications[0].application_name")
    taken = sla("grab", services=[svc("web", addresses={"rr_ip": "10.30.30.30"})])
    st, body, _ = r.req("POST", "/api/application", taken, token=bob)
    check("rr_ip taken by another service: 409 naming the field", st == 409
          and body.get("field") == "applications[0].microservices[0].addresses.rr_ip", str(body))
    for key in ("rr_ip", "closest_ip"):
        st, body, _ = r.req("POST", "/api/application", sla("out", services=[svc("web", addresses={key: "10.31.0.5"})]), token=bob)
        check("%s outside 10.30.0.0/16: 400 naming it" % key, st == 400
              and body.get("field") == "applications[0].microservices[0].addresses." + key, str(body))
    for f in sorted(os.listdir(DATA)):
        if f.startswith(("bad_", "missing_", "misspelled_", "name_with_", "wrong_type_")):
            st, body, _ = r.req("POST", "/api/application", load(f), token=bob)
            check("rejected SLA %s: 400 with a field" % f, st == 400 and body.get("field")
                  and body["field"] in body["message"], str(body))
    st, body, _ = r.req("POST", "/api/application", raw=b'{"sla_version": "v2.0", "applications": [', token=bob)
    check("truncated SLA: 400", st == 400)
    st, body, _ = r.req("POST", "/api/application", raw=b'"just a string"', token=bob)
    check("SLA that is not an object: 400", st == 400)
    two = sla("pair", services=[svc("a", addresses={"rr_ip": "10.30.40.1"}), svc("b")])
    two["applications"].append(sla("pair2", services=[svc("a"), svc("b", addresses={"rr_ip": "10.30.30.30"})])["applications"][0])
    st, body, _ = r.req("POST", "/api/application", two, token=bob)
    check("a second application of the SLA fails: 409", st == 409 and body["field"].startswith("applications[1]"))
    st, body, _ = r.req("POST", "/api/application", sla("pair", services=[svc("a", addresses={"rr_ip": "10.30.40.1"})]), token=bob)
    check("... and nothing of the first one was kept (its name and rr_ip are free)", st == 200, str(body))
    st, body, _ = r.req("DELETE", "/api/application/" + body[0]["applicationID"], token=bob)
    check("nothing stored from the rejected requests", count(r, admin, "applications") == napps
          and count(r, admin, "services") == nsvcs)

    # what Oakestra accepts, oak accepts: long URLs in code, state, added_files
    url75 = "https://storage.example.org/checkpoints/team-a/nginx/state-2024-05-1.tar.gz"
    longurl = "https://registry.example.org/" + "a" * 2000 + "/image:latest"
    big = svc("stateful", state=url75, code=longurl, added_files=["https://files.example.org/" + "f" * 5000],
              cmd=["sh", "-c", "echo " + "x" * 6000])
    st, body, _ = r.req("POST", "/api/application", sla("urls", services=[big]), token=bob)
    check("a 75-character state URL, 2000-character code and long added_files are accepted",
          st == 200 and len(url75) == 75, str(body)[:300])
    if st == 200:
        st2, s, _ = r.req("GET", "/api/service/" + body[0]["microservices"][0], token=bob)
        check("... and kept as submitted", s["state"] == url75 and s["code"] == longurl)
        r.req("DELETE", "/api/application/" + body[0]["applicationID"], token=bob)
    return aid, ng, cu


def body_cases(r, admin):
    big = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    s = socket.create_connection(("127.0.0.1", r.port), 10)
    s.sendall(b"POST /api/application HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin.encode()
              + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(big))
    try:
        s.sendall(big[:65536])
    except OSError:
        pass
    resp = s.recv(4096).decode(errors="replace")
    s.close()
    check("oversized body (Content-Length): 413 as JSON", resp.startswith("HTTP/1.1 413") and '"status":413' in resp, resp[:120])
    c = http.client.HTTPConnection("127.0.0.1", r.port, timeout=20)
    c.putrequest("POST", "/api/application")
    c.putheader("Authorization", "Bearer " + admin)
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    chunk = b"a" * 65536
    try:
        for _ in range(24):
            c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        c.send(b"0\r\n\r\n")
        resp = c.getresponse()
        st, text = resp.status, resp.read()
    except OSError as e:
        st, text = None, str(e)
    c.close()
    check("oversized chunked body: 413", st == 413, str(st))
    st, body, _ = r.req("GET", "/api/nothing/here", token=admin)
    check("unknown route: 404 as JSON", st == 404 and body["status"] == 404)
    st, body, _ = r.req("PATCH", "/api/applications", token=admin)
    check("unsupported method: 405", st == 405)


def service_cases(r, admin, toks, aid, ng, cu):
    alice, bob = toks["alice"], toks["bob"]
    sid = ng["microserviceID"]
    st, body, _ = r.req("POST", "/api/service/%s/instance" % sid, token=alice)
    check("deploy one more instance: ok, replicas 1", st == 200 and body["message"] == "ok" and body["replicas"] == 1)
    st, body, _ = r.req("POST", "/api/service/%s/instance/" % sid, {"replicas": 3}, token=alice)
    check("replica count in one call", st == 200 and body["replicas"] == 3)
    st, body, _ = r.req("POST", "/api/service/%s/instance" % sid, {"replicas": -1}, token=alice)
    check("a negative replica count: 400", st == 400 and body["field"] == "replicas")
    st, body, _ = r.req("POST", "/api/service/%s/instance" % sid, token=bob)
    check("scaling another user's service: 403", st == 403)
    st, body, _ = r.req("POST", "/api/service/0123456789abcdef01234567/instance", token=alice)
    check("scaling a missing service: 404", st == 404)
    # the orchestrator creates the instance entries (no cluster: they wait)
    for _ in range(50):
        st, s, _ = r.req("GET", "/api/service/" + sid, token=alice, record=False)
        if len(s["instance_list"]) == 3:
            break
        time.sleep(0.1)
    st, s, _ = r.req("GET", "/api/service/" + sid, token=alice)
    nums = sorted(e["instance_number"] for e in s["instance_list"])
    check("three instance entries, distinct numbers and Instance IPs", len(nums) == 3 and len(set(nums)) == 3
          and len({e.get("instance_ip") for e in s["instance_list"]}) == 3, str(s["instance_list"])[:300])
    gen = s["generation"]
    st, body, _ = r.req("PUT", "/api/service/" + sid, {"code": "docker.io/library/nginx:1.27"}, token=alice)
    check("PUT a new image: generation bumped, Service IPs kept", st == 200 and body["generation"] == gen + 1
          and body["code"].endswith("1.27") and body["rr_ip"] == "10.30.30.30" and body["closest_ip"] == ng["closest_ip"])
    st, body, _ = r.req("PUT", "/api/service/" + sid, {"replicas": 2}, token=alice)
    check("PUT replicas only: same generation", st == 200 and body["replicas"] == 2 and body["generation"] == gen + 1)
    whole = dict(body, replicas=2)
    st, body, _ = r.req("PUT", "/api/service/" + sid, whole, token=alice)
    check("PUT the document as read back: no change of generation", st == 200 and body["generation"] == gen + 1)
    for change, field in (({"microservice_name": "other"}, "microservice_name"),
                          ({"addresses": {"rr_ip": "10.30.9.9"}}, "addresses.rr_ip"),
                          ({"memory": "lots"}, "memory"), ({"colour": "red"}, "colour"),
                          ({"port": "no-port"}, "port"), ({"replicas": 100000}, "replicas")):
        st, body, _ = r.req("PUT", "/api/service/" + sid, change, token=alice)
        check("PUT %s: 400 naming %s" % (list(change)[0], field), st == 400 and body.get("field") == field, str(body))
    st, body, _ = r.req("GET", "/api/service/" + sid, token=alice)
    check("nothing stored from the rejected PUTs", body["generation"] == gen + 1 and body["replicas"] == 2
          and body["microservice_name"] == "nginx" and body["memory"] == 100)
    st, body, _ = r.req("PUT", "/api/service/" + sid, {"code": "x"}, token=bob)
    check("PUT another user's service: 403", st == 403)
    st, body, _ = r.req("DELETE", "/api/service/%s/instance/abc" % sid, token=alice)
    check("remove instance 'abc': 400", st == 400)
    st, body, _ = r.req("DELETE", "/api/service/%s/instance/77" % sid, token=alice)
    check("remove a missing instance: 404", st == 404)
    for _ in range(50):
        st, s, _ = r.req("GET", "/api/service/" + sid, token=alice, record=False)
        live = [e for e in s["instance_list"] if e.get("status") != "UNDEPLOYED"]
        if len(live) == 2:
            break
        time.sleep(0.1)
    n = live[0]["instance_number"] if live else 0
    st, body, _ = r.req("DELETE", "/api/service/%s/instance/%d" % (sid, n), token=alice)
    st2, s, _ = r.req("GET", "/api/service/" + sid, token=alice)
    check("remove instance n: ok, replicas one less", st == 200 and s["replicas"] == 1, "%s %s" % (body, s["replicas"]))
    st, body, _ = r.req("GET", "/api/services/", token=bob)
    check("a user lists only its own services", st == 200 and body == [])
    st, body, _ = r.req("GET", "/api/services", token=admin)
    check("Admin lists every service", st == 200 and len(body) >= 2)
    st, body, _ = r.req("DELETE", "/api/service/" + cu["microserviceID"], token=alice)
    st2, app, _ = r.req("GET", "/api/application/" + aid, token=alice)
    check("delete a service: gone from its application", st == 200 and cu["microserviceID"] not in app["microservices"])
    st, body, _ = r.req("GET", "/api/service/" + cu["microserviceID"], token=alice)
    check("deleted service: 404", st == 404)
    st, body, _ = r.req("PUT", "/api/application/" + aid, {"application_desc": "new words"}, token=alice)
    check("PUT application description", st == 200 and body["application_desc"] == "new words")
    st, body, _ = r.req("PUT", "/api/application/" + aid, {"application_name": "renamed"}, token=alice)
    check("PUT application name: 400 naming it", st == 400 and body.get("field") == "application_name")
    st, body, _ = r.req("DELETE", "/api/user/alice", token=admin)
    check("a user owning applications is not deleted: 409", st == 409)
    st, body, _ = r.req("DELETE", "/api/application/" + aid, token=alice)
    check("delete the application", st == 200)
    st, body, _ = r.req("GET", "/api/service/" + sid, token=alice)
    check("its services are gone", st == 404)
    st, body, _ = r.req("POST", "/api/application", load("clientserver.json"), token=bob)
    check("its name and rr_ip are free again", st == 200 and len(body) == 1)
    st, body, _ = r.req("DELETE", "/api/application/" + body[0]["applicationID"], token=bob)


def cluster_cases(r, toks):
    st, body, _ = r.req("GET", "/api/clusters/", token=toks["alice"])
    check("clusters (none yet)", st == 200 and body == [])
    st, body, _ = r.req("GET", "/api/clusters/active", token=toks["alice"])
    check("active clusters (none)", st == 200 and body == [])
    st, body, _ = r.req("GET", "/api/cluster/nowhere", token=toks["alice"])
    check("missing cluster: 404", st == 404)
    st, body, _ = r.req("GET", "/api/cluster/nowhere/nodes", token=toks["alice"])
    check("nodes of a missing cluster: 404", st == 404)
    st, body, _ = r.req("GET", "/api/cluster/nowhere/nodes")
    check("nodes need a token: 401", st == 401)
    st, body, _ = r.req("GET", "/api/clusters")
    check("clusters need a token: 401", st == 401)


def user_delete_case(r, admin, toks):
    old = toks["bob"]
    st, body, _ = r.req("DELETE", "/api/user/bob/", token=admin)
    st2, _, _ = r.req("GET", "/api/applications", token=old)
    check("delete a user: its tokens stop working", st == 200 and st2 == 401)
    st, body, _ = r.req("POST", "/api/auth/register", {"username": "bob", "password": "bob-password-2"}, token=admin)
    st2, _, _ = r.req("GET", "/api/applications", token=old)
    st3, _, _ = r.req("POST", "/api/auth/login", {"username": "bob", "password": "bob-password-2"})
    check("a new user of the same name: the old token still refused", st == 200 and st2 == 401 and st3 == 200)
    st, body, _ = r.req("DELETE", "/api/user/nobody", token=admin)
    check("delete a missing user: 404", st == 404)


def rate_limit_case(r):
    codes = []
    for _ in range(6):
        st, _, _ = r.req("POST", "/api/auth/login", {"username": "Admin", "password": "guess"}, source="127.0.0.2")
        codes.append(st)
    st, _, _ = r.req("POST", "/api/auth/login", {"username": "Admin", "password": ADMIN_PW}, source="127.0.0.2")
    st2, _, _ = r.req("POST", "/api/auth/login", {"username": "Admin", "password": ADMIN_PW})
    check("5 failed logins a minute, then 429 for that address only",
          codes == [401] * 5 + [429] and st == 429 and st2 == 200, "%s %s %s" % (codes, st, st2))


def expiry_cases(tmp):
    r = Root(os.path.join(tmp, "expiry"), ["--access_token_ttl", "2", "--refresh_token_ttl", "5"])
    os.makedirs(r.state)
    out = r.init_admin()
    m = re.search(r"Admin password \(shown once\): (\S+)", out.stdout)
    check("--init-admin prints a generated password once", out.returncode == 0 and m, out.stdout + out.stderr)
    r.start()
    try:
        st, body, _ = r.req("POST", "/api/auth/login", {"username": "Admin", "password": m.group(1) if m else ""})
        check("login with the generated password", st == 200)
        tok, ref = body["token"], body["refresh_token"]
        st1, _, _ = r.req("GET", "/api/applications", token=tok)
        time.sleep(3.1)
        st2, body, _ = r.req("GET", "/api/applications", token=tok)
        check("access token works, then expires: 401", st1 == 200 and st2 == 401 and "expired" in body["message"])
        st, body, _ = r.req("POST", "/api/auth/refresh", token=ref)
        st3, _, _ = r.req("GET", "/api/applications", token=body.get("token", ""))
        check("refresh gives a working access token", st == 200 and st3 == 200)
        time.sleep(2.5)
        st, body, _ = r.req("POST", "/api/auth/refresh", token=ref)
        check("an expired refresh token: 401", st == 401)
        out = r.init_admin("reset-password-1")
        st, body, _ = r.req("POST", "/api/auth/login", {"username": "Admin", "password": "reset-password-1"})
        check("--init-admin --admin-password resets it (while running)", out.returncode == 0 and st == 200)
    finally:
        r.stop()


def restart_case(r, admin):
    st, before, _ = r.req("GET", "/api/applications", token=admin, record=False)
    rc = r.stop()
    check("SIGTERM: clean stop", rc == 0, str(rc))
    r.start()
    st, after, _ = r.req("GET", "/api/applications", token=admin)
    check("after a restart: the same token works, the same applications", st == 200 and after == before)


def kill_case(r, admin, rounds=3):
    """SIGKILL during a burst of POSTs; after the restart every acknowledged
    application is there with all its services, none is half-written, and
    no instance is duplicated."""
    acked, deleted, lock = [], [], threading.Lock()
    st, body, _ = r.req("POST", "/api/application", sla("scaled", services=[svc("w")]), token=admin)
    scaled_sid = body[0]["microservices"][0]
    for rnd in range(rounds):
        stop = threading.Event()

        def burst(tid):
            i = 0
            while not stop.is_set():
                name = "k%dt%di%d" % (rnd, tid, i)
                i += 1
                try:
                    st, body, _ = r.req("POST", "/api/application",
                                        sla(name, services=[svc("a"), svc("b")]), token=admin, record=False)
                    if tid == 0:
                        r.req("POST", "/api/service/%s/instance" % scaled_sid, token=admin, record=False)
                except (OSError, http.client.HTTPException):
                    return
                if st == 200 and tid == 1:
                    # this thread deletes what it made: a delete is all or nothing too
                    try:
                        st2, _, _ = r.req("DELETE", "/api/application/" + body[0]["applicationID"],
                                          token=admin, record=False)
                    except (OSError, http.client.HTTPException):
                        return
                    if st2 == 200:
                        with lock:
                            deleted.append(body[0]["applicationID"])
                        continue
                if st == 200:
                    with lock:
                        acked.append((body[0]["applicationID"], name, sorted(body[0]["microservices"])))
        ts = [threading.Thread(target=burst, args=(t,)) for t in range(4)]
        for t in ts:
            t.start()
        time.sleep(random.uniform(0.6, 1.4))
        r.proc.kill()
        r.proc.wait()
        stop.set()
        for t in ts:
            t.join(30)
        r.log.close()
        r.start()
    st, apps, _ = r.req("GET", "/api/applications", token=admin, record=False)
    st, svcs, _ = r.req("GET", "/api/services", token=admin, record=False)
    byid = {a["applicationID"]: a for a in apps}
    sids = {s["microserviceID"]: s for s in svcs}
    lost = [a for a in acked if a[0] not in byid or byid[a[0]]["application_name"] != a[1]
            or sorted(byid[a[0]]["microservices"]) != a[2]]
    half = [a for a in apps if any(m not in sids for m in a["microservices"])]
    orphan = [s for s in svcs if s["applicationID"] not in byid]
    names = [a["application_name"] for a in apps]
    undead = [d for d in deleted if d in byid]
    print("     kill test: %d rounds, %d POSTs and %d DELETEs acknowledged, %d applications stored, "
          "%d lost, %d deleted ones back, %d half-written, %d orphan services"
          % (rounds, len(acked), len(deleted), len(apps), len(lost), len(undead), len(half), len(orphan)))
    check("SIGKILL during bursts: every acknowledged application is there", acked and not lost, str(lost[:3]))
    check("... and no acknowledged delete undone", deleted and not undead, str(undead[:3]))
    check("... none half-written, no orphan service, no duplicate name",
          not half and not orphan and len(names) == len(set(names)))
    for _ in range(60):
        st, s, _ = r.req("GET", "/api/service/" + scaled_sid, token=admin, record=False)
        if len(s["instance_list"]) == s["replicas"]:
            break
        time.sleep(0.1)
    nums = [e["instance_number"] for e in s["instance_list"]]
    ips = [e.get("instance_ip") for e in s["instance_list"]]
    print("     scaled service: replicas %d, %d instance entries" % (s["replicas"], len(nums)))
    check("... and no duplicate instance after the restarts", s["replicas"] > 0 and len(nums) == s["replicas"]
          and len(set(nums)) == len(nums) and len(set(ips)) == len(ips), str(nums))
    return len(acked)


def main():
    tmp = tempfile.mkdtemp(prefix="oak-api-")
    r = Root(os.path.join(tmp, "main"))
    os.makedirs(r.state)
    out = r.init_admin(ADMIN_PW)
    check("--init-admin --admin-password", out.returncode == 0 and ADMIN_PW not in out.stdout, out.stdout)
    r.start()
    try:
        admin = auth_cases(r)
        toks, ids = user_cases(r, admin)
        org_cases(r, admin, toks, ids)
        aid, ng, cu = app_cases(r, admin, toks, ids)
        body_cases(r, admin)
        service_cases(r, admin, toks, aid, ng, cu)
        cluster_cases(r, toks)
        user_delete_case(r, admin, toks)
        rate_limit_case(r)
        restart_case(r, admin)
        kill_case(r, admin)
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../control/root/openapi.json")) as f:
            doc = json.load(f)
        st, served, _ = r.req("GET", "/api/openapi.json", record=False)
        check("the served OpenAPI document is the source one", served == doc)
        plain = [s for s in seen if not isinstance(s[3], (dict, list)) and s[3] is not None]
        check("every answer is plain JSON (an object or a list)", not plain, str(plain[:3]))
        bad, missing = openapi_check(doc)
        check("every answer (%d) matches the OpenAPI document" % len(seen), not bad, "\n  " + "\n  ".join(bad[:15]))
        check("every documented route was exercised", not missing, str(missing))
    finally:
        r.stop()
    expiry_cases(tmp)
    subprocess.run(["rm", "-rf", tmp])
    print("%d checks, %d failed%s" % (checks["n"], len(checks["failed"]),
                                     (": " + ", ".join(checks["failed"])) if checks["failed"] else ""))
    return 1 if checks["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
