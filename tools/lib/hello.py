#!/usr/bin/python3
"""The demo's client/server app, for oak's `native` runtime (no image).

  hello.py serve PORT [NAME]   HTTP on PORT: every GET answers one line,
                               NAME with {ip} replaced by the instance's own
                               address (default "hello from {ip}")
  hello.py ask URL [N]         N GETs (default 1), each on a new connection;
                               prints each answer, "-" for a failed request;
                               exit 0 if every one was answered
  hello.py client URL...       forever, once a second: GET every URL and
                               print "URL -> answer" (the client instance)
"""
import http.server
import socket
import sys
import time
import urllib.request


def own_address():
    """The instance's namespace address (the source of its default route)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.30.0.1", 9))  # no packet is sent: a route lookup
        return s.getsockname()[0]
    except OSError:
        return socket.gethostname()
    finally:
        s.close()


def serve(port, name):
    body = (name + "\n").encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            sys.stdout.write("%s %s\n" % (self.client_address[0], fmt % args))
            sys.stdout.flush()

    http.server.ThreadingHTTPServer.allow_reuse_address = True
    srv = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
    print("serving %r on port %d" % (name, port), flush=True)
    srv.serve_forever()


# never a proxy from the environment: the addresses are the fleet's own
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url, timeout=2.0):
    try:
        with OPENER.open(url, timeout=timeout) as r:
            return r.read().decode().strip()
    except (OSError, ValueError):
        return None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == "serve":
        port = int(sys.argv[2])
        name = sys.argv[3] if len(sys.argv) > 3 else "hello from {ip}"
        serve(port, name.replace("{ip}", own_address()))
    elif cmd == "ask":
        n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
        ok = True
        for _ in range(n):
            a = get(sys.argv[2])
            ok = ok and a is not None
            print(a if a is not None else "-", flush=True)
        sys.exit(0 if ok else 1)
    elif cmd == "client":
        while True:
            for url in sys.argv[2:]:
                a = get(url)
                print("%s -> %s" % (url, a if a is not None else "no answer"), flush=True)
            time.sleep(1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
