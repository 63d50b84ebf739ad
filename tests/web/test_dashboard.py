#!/usr/bin/python3
"""The dashboard in a real browser (Debian's headless Chromium through
chromedriver and python3-selenium) against a running fleet (oak-root with
clusters and nodes; tests/web/dashboard.sh brings one up with oak-local):
log in, deploy through the form, watch the instance reach RUNNING with its
cluster, node and charts, open its logs, scale to 2 and back, see the
clusters on the map, get the validator's error next to the field for a bad
form value and for a bad uploaded SLA, delete. Screenshots go to OUT_DIR.

    test_dashboard.py ROOT_URL USER PASSWORD OUT_DIR
"""
import json
import os
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

URL, USER, PASSWORD, OUT = sys.argv[1:5]
SVC = "web%d" % (os.getpid() % 100000)  # one name per run
checks = {"n": 0, "failed": []}


def check(name, cond, detail=""):
    checks["n"] += 1
    if cond:
        print("ok   - " + name)
    else:
        checks["failed"].append(name)
        print("FAIL - " + name + ((": " + str(detail)) if detail else ""))
    sys.stdout.flush()
    return cond


def browser(profile):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1400,1000", "--user-data-dir=" + profile,
              # nothing but loopback: a page that named a CDN would fail here
              "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def wait(d, what, fn, timeout=30):
    try:
        return WebDriverWait(d, timeout, poll_frequency=0.2).until(lambda _: fn())
    except TimeoutException:
        return None


def find(d, css):
    try:
        return d.find_element(By.CSS_SELECTOR, css)
    except WebDriverException:
        return None


def text(d, css):
    e = find(d, css)
    try:
        return e.text if e else ""
    except WebDriverException:
        return ""


def row_of(d, table, name):
    for r in d.find_elements(By.CSS_SELECTOR, "#%s tbody tr" % table):
        try:
            if r.get_attribute("data-name") == name or r.find_element(By.CSS_SELECTOR, "td").text == name:
                return r
        except WebDriverException:
            pass
    return None


def retry(fn, tries=5):
    """fn on elements that a poll may redraw under it (every 2 s)"""
    for i in range(tries):
        try:
            return fn()
        except (WebDriverException, AttributeError):
            if i == tries - 1:
                raise
            time.sleep(0.2)


def scale_to(d, n):
    def go():
        row = row_of(d, "services-table", SVC)
        inp = row.find_element(By.CSS_SELECTOR, "input.replicas")
        inp.clear()  # focused: the page does not redraw the table under it
        inp.send_keys(str(n))
        row.find_element(By.CSS_SELECTOR, ".scale-button").click()
    retry(go)


def count_of(d, name):
    r = row_of(d, "services-table", name)
    try:
        return r.find_element(By.CSS_SELECTOR, "td.count").text if r else ""
    except WebDriverException:
        return ""


def instance_rows(d):
    out = []
    for r in d.find_elements(By.CSS_SELECTOR, "#instances-table tbody tr"):
        try:
            tds = [t.text for t in r.find_elements(By.TAG_NAME, "td")]
            if tds and tds[0] == SVC:
                out.append(tds)
        except WebDriverException:
            pass
    return out


def goto(d, view):
    d.find_element(By.CSS_SELECTOR, '#nav a[data-view="%s"]' % view).click()
    wait(d, view, lambda: find(d, "#view-" + view).is_displayed(), 5)


def fill(d, css, value):
    e = d.find_element(By.CSS_SELECTOR, css)
    e.clear()
    e.send_keys(value)


def shot(d, name):
    path = os.path.join(OUT, name)
    d.save_screenshot(path)
    print("   screenshot " + path)
    return path


def main():
    t0 = time.time()
    profile = tempfile.mkdtemp(prefix="oak-web-chromium-")
    d = browser(profile)
    try:
        run(d)
        errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"
                  and "favicon" not in e.get("message", "")
                  and " 400 " not in e.get("message", "") and " 401 " not in e.get("message", "")]
        check("no script error in the browser console", not errors, errors[:3])
    finally:
        d.quit()
        os.system("rm -rf '%s'" % profile)
    print("%d checks, %d failed in %.1f s%s" % (checks["n"], len(checks["failed"]), time.time() - t0,
                                                (": " + ", ".join(checks["failed"])) if checks["failed"] else ""))
    return 1 if checks["failed"] else 0


def run(d):
    # static files as a browser gets them
    d.get(URL + "/")
    check("the dashboard loads from oak-root at /", d.title == "oak dashboard", d.title)
    check("an unknown page is a 404, not the API", "not found" in
          urllib_status(URL + "/../../etc/passwd")[1] and urllib_status(URL + "/nope.js")[0] == 404)

    # log in: a wrong password first
    fill(d, "#login-user", USER)
    fill(d, "#login-password", "not-the-password")
    d.find_element(By.ID, "login-submit").click()
    check("a wrong password is refused on the page", wait(d, "error", lambda: text(d, "#login-error"), 10),
          text(d, "#login-error"))
    fill(d, "#login-password", PASSWORD)
    d.find_element(By.ID, "login-submit").click()
    check("log in: the services view and the user name appear",
          wait(d, "login", lambda: find(d, "#view-services").is_displayed() and text(d, "#who") == USER, 10))

    # clusters on the map, live
    goto(d, "clusters")
    ok = wait(d, "map", lambda: len(d.find_elements(By.CSS_SELECTOR, "#map g.cluster.live")) >= 2, 30)
    check("the map shows every cluster live, at its location", ok,
          [g.get_attribute("data-cluster") for g in d.find_elements(By.CSS_SELECTOR, "#map g.cluster")])
    detail = text(d, "#map g.cluster .detail")
    check("a cluster on the map shows its nodes, vCPUs and memory",
          "nodes" in detail and "vCPU" in detail and "MB" in detail, detail)
    ok = wait(d, "nodes", lambda: len(d.find_elements(By.CSS_SELECTOR, "#map g.node.live")) >= 4, 15)
    check("the map shows every node live (4)", ok,
          [g.get_attribute("data-node") for g in d.find_elements(By.CSS_SELECTOR, "#map g.node")])
    nodes = d.execute_script(
        "return fetch('/api/cluster/c1/nodes', {headers: {Authorization: 'Bearer ' + "
        "sessionStorage.getItem('oak.token')}}).then(r => r.json())")
    check("GET /api/cluster/c1/nodes: its 2 nodes with location, CPU, memory, liveness",
          isinstance(nodes, list) and len(nodes) == 2 and all(
              n.get("active") and n.get("location", {}).get("lat") == 48.137 and n.get("memory_mb", 0) > 0
              and "cpu_percent" in n for n in nodes), nodes)
    nrows = d.find_elements(By.CSS_SELECTOR, "#nodes-table tbody tr")
    check("the nodes table lists the 4 nodes live", len(nrows) == 4 and
          all(r.find_elements(By.TAG_NAME, "td")[3].text == "live" for r in nrows), [r.text for r in nrows])
    rows = d.find_elements(By.CSS_SELECTOR, "#clusters-table tbody tr")
    check("the clusters table lists them with their aggregates", len(rows) >= 2 and
          all(r.find_elements(By.TAG_NAME, "td")[2].text == "live" for r in rows),
          [r.text for r in rows])
    shot(d, "dashboard-clusters.png")

    # the form: a bad value is shown next to its field, nothing is stored
    goto(d, "deploy")
    fill(d, "#f-app", SVC)
    fill(d, "#f-name", SVC)
    fill(d, "#f-memory", "lots")
    d.find_element(By.ID, "deploy-submit").click()
    err = wait(d, "field error", lambda: text(d, '#f-memory + .field-error'), 10)
    check("a bad memory value: the validator's error next to the Memory field", err and "memory" in err, err)
    check("the Memory field is marked invalid", "invalid" in (find(d, "#f-memory").get_attribute("class") or ""))
    shot(d, "dashboard-form-error.png")

    # deploy through the form: a program that uses a little CPU (~5 % of one)
    fill(d, "#f-memory", "50")
    # no CPU share asked: nodes report their free vCPUs from the machine's
    # load, which other tests on this machine may take
    fill(d, "#f-vcpus", "0")
    fill(d, "#f-cmd", "python3\n-c\nimport time,itertools; "
         "[(sum(range(200000)), time.sleep(0.1)) for _ in itertools.count()]")
    d.find_element(By.ID, "deploy-submit").click()
    ok = wait(d, "deployed", lambda: SVC in text(d, "#deploy-ok"), 15)
    check("deploy through the form", ok, text(d, "#deploy-error") or text(d, "#deploy-ok"))
    check("the field error is gone after a good submit", not text(d, '#f-memory + .field-error'))

    goto(d, "services")
    ok = wait(d, "service row", lambda: row_of(d, "services-table", SVC), 10)
    check("the service is listed with its application", ok is not None)
    goto(d, "instances")
    t = time.time()
    ok = wait(d, "running", lambda: any(r[2] == "RUNNING" for r in instance_rows(d)), 40)
    check("the instance reaches RUNNING on the page (%.1f s)" % (time.time() - t), ok, instance_rows(d))
    r = (instance_rows(d) or [[""] * 9])[0]
    check("the instance row names its cluster, node and Instance IP",
          r[3].startswith("c") and r[4] not in ("", "-") and r[5].startswith("10.30."), r)
    # usage: the node's report (every report interval, 10 s) reaches the page
    def metrics():
        try:
            return [float(v.text or 0) for v in
                    d.find_elements(By.CSS_SELECTOR, "#instances-table tbody tr .metric .value")]
        except (WebDriverException, ValueError):
            return []
    t = time.time()
    def used():
        m = metrics()
        return len(m) >= 2 and m[0] > 0 and m[1] > 0
    ok = wait(d, "usage", used, 25)
    check("the instance's CPU and memory use reach the page from its node (%.1f s)" % (time.time() - t),
          ok, metrics())
    # the charts get a point per poll
    paths = d.find_elements(By.CSS_SELECTOR, "#instances-table tbody tr svg.chart path.chart-line")
    check("CPU and memory charts are drawn from the polls", len(paths) >= 2 and
          all(p.get_attribute("d").count("L") >= 1 for p in paths[:2]),
          [p.get_attribute("d") for p in paths[:2]])
    d.find_element(By.CSS_SELECTOR, "#instances-table tbody tr .logs-button").click()
    check("the logs panel opens for the instance", wait(d, "logs", lambda: find(d, "#logs").is_displayed(), 5)
          and SVC in text(d, "#logs-title"))
    shot(d, "dashboard-instances.png")

    # scale to 2, then back to 1
    goto(d, "services")
    scale_to(d, 2)
    ok = wait(d, "scaled", lambda: count_of(d, SVC) == "2 / 2", 40)
    check("scale to 2: the page shows 2 of 2 running", ok, count_of(d, SVC))
    ips = retry(lambda: [x.text for x in row_of(d, "services-table", SVC).find_elements(By.CSS_SELECTOR, "td.ip")])
    check("the service shows its Service IPs", ips and all(x.startswith("10.30.") for x in ips), ips)
    shot(d, "dashboard-services.png")
    scale_to(d, 1)
    goto(d, "instances")
    ok = wait(d, "scaled down", lambda: len(instance_rows(d)) == 1, 30)
    check("scale to 1: one instance left on the page", ok, instance_rows(d))

    # a bad SLA upload: the validator's message names the field
    goto(d, "deploy")
    bad = {"sla_version": "v2.0", "customerID": USER, "applications": [{
        "applicationID": "", "application_name": SVC + "x", "application_namespace": "test",
        "application_desc": "", "microservices": [{
            "microserviceID": "", "microservice_name": "bad", "microservice_namespace": "test",
            "virtualization": "native", "code": "python3", "cmd": ["python3"], "memory": "lots",
            "vcpus": 1, "vgpus": 0, "vtpus": 0, "bandwidth_in": 0, "bandwidth_out": 0, "storage": 0,
            "state": "", "port": "", "added_files": []}]}]}
    area = d.find_element(By.ID, "sla-text")
    d.execute_script("arguments[0].value = arguments[1]", area, json.dumps(bad, indent=2))
    d.find_element(By.ID, "upload-submit").click()
    err = wait(d, "sla error", lambda: text(d, "#sla-error"), 10)
    check("a bad SLA upload: the error names the failing field",
          err and "applications[0].microservices[0].memory" in err, err)
    check("the error sits next to the SLA text, which is marked invalid",
          find(d, "#sla-error").get_attribute("data-field") == "applications[0].microservices[0].memory" and
          "invalid" in (area.get_attribute("class") or ""))
    shot(d, "dashboard-sla-error.png")

    # delete (two clicks: Delete, Confirm delete)
    goto(d, "services")
    for _ in range(2):
        retry(lambda: row_of(d, "services-table", SVC).find_element(By.CSS_SELECTOR, ".delete-button").click())
        time.sleep(0.2)
    ok = wait(d, "deleted", lambda: row_of(d, "services-table", SVC) is None, 15)
    check("delete: the service leaves the page", ok)
    goto(d, "instances")
    check("delete: its instances leave the page", wait(d, "gone", lambda: not instance_rows(d), 15))
    goto(d, "services")
    shot(d, "dashboard.png")


def urllib_status(url):
    # the raw path as a browser would not send it (no normalisation)
    import http.client
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("GET", u.path)
    r = c.getresponse()
    body = r.read().decode(errors="replace")
    c.close()
    return r.status, body


if __name__ == "__main__":
    import urllib.parse  # noqa: F401  (used by urllib_status)
    sys.exit(main())
