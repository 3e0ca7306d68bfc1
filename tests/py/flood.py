"""Floods an atlas-ca server the way issue 12 describes, with the standard
library only, and prints what it measured as JSON:

  idle BASE N CREATE_URL USER:PASS  hold N idle sockets open, then time one
                                    real create with curl --digest
  unauth BASE N                     send N unauthenticated requests, each
                                    claiming a new large user name, over
                                    keep-alive connections
"""
import json
import resource
import socket
import subprocess
import sys
import time
import urllib.parse


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def idle(base, n, create_url, user):
    raise_nofile()
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    held = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((host, int(port)))
        except OSError:
            break
        held.append(s)
    started = time.time()
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "60",
         "--digest", "--user", user, "-X", "POST", "-H", "Content-Type: application/json",
         "-H", "Accept: application/vnd.atlas.2023-01-01+json",
         "--data", "{}", create_url],
        capture_output=True, text=True)
    took = time.time() - started
    for s in held:
        s.close()
    print(json.dumps({"held": len(held), "status": out.stdout, "seconds": took}))


def unauth(base, n):
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    path = "/api/atlas/v2/groups/5efda6aea3f2ed2e7dd6ce05/databaseUsers"
    statuses = {}
    sent = 0
    while sent < n:
        s = socket.create_connection((host, int(port)))
        f = s.makefile("rb")
        for _ in range(100):
            name = f"u{sent:08d}" + "x" * 2000
            auth = (f'Digest username="{name}", realm="MMS Public API", nonce="n", '
                    f'uri="{path}", response="0", qop=auth, nc=00000001, cnonce="c"')
            s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
                       f"Authorization: {auth}\r\n\r\n").encode())
            status = f.readline().split()[1].decode()
            length = 0
            while True:
                line = f.readline()
                if line in (b"\r\n", b""):
                    break
                k, _, v = line.decode().partition(":")
                if k.lower() == "content-length":
                    length = int(v)
            f.read(length)
            statuses[status] = statuses.get(status, 0) + 1
            sent += 1
        s.close()
    print(json.dumps({"sent": sent, "statuses": statuses}))


if __name__ == "__main__":
    if sys.argv[1] == "idle":
        idle(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    else:
        unauth(sys.argv[2], int(sys.argv[3]))
