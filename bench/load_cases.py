#!/usr/bin/env python3
"""Files N reports through the API over keep-alive connections (stdlib only)."""
import http.client
import json
import sys
import threading

host, port, token, project, total = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
workers = 8
lock = threading.Lock()
done = 0


def work(count):
    global done
    conn = http.client.HTTPConnection(host, port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for _ in range(count):
        body = json.dumps({"project": project, "title": "Benchmark report", "description": "x" * 400,
                           "reporter": {"email": "bench@example.net"}})
        conn.request("POST", "/api/cases", body, headers)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 201:
            raise SystemExit(f"unexpected status {resp.status}")
        with lock:
            done += 1
            if done % 1000 == 0:
                print(f"  loaded {done}/{total} cases", file=sys.stderr, flush=True)


threads = [threading.Thread(target=work, args=(total // workers + (1 if i < total % workers else 0),)) for i in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
