#!/usr/bin/env python3
"""Files N reports through the API over keep-alive connections (stdlib only). Each title
carries one of a hundred words (`word07`, say), so that a search for one finds about a
hundredth of the cases, and the word `report`, found in all."""
import http.client
import json
import sys
import threading

host, port, token, project, total = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
workers = 8
lock = threading.Lock()
done = 0


def work(first, count):
    global done
    conn = http.client.HTTPConnection(host, port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for n in range(first, first + count):
        body = json.dumps({"project": project, "title": f"Benchmark report word{n % 100:02d} {n}",
                           "description": ("The console proxy misbehaves under load. " * 10)[:400],
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


shares = [total // workers + (1 if i < total % workers else 0) for i in range(workers)]
threads = [threading.Thread(target=work, args=(sum(shares[:i]), shares[i])) for i in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
