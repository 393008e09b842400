#!/usr/bin/env python3
"""Takes one new case through the lifecycle to `announced` over the API (stdlib only) and
prints its reference: the public advisory the HTTP benchmark then reads."""
import datetime
import http.client
import json
import sys

host, port, token, project = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
conn = http.client.HTTPConnection(host, port)
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def call(method, path, body=None, expect=(200, 201)):
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status not in expect:
        raise SystemExit(f"{method} {path}: {resp.status} {data[:300]!r}")
    return json.loads(data) if data else None


case = call("POST", "/api/cases", {"project": project, "title": "Benchmark advisory: heap overflow in the parser",
                                   "description": "A long enough description. " * 40})
ref = case["ref"]
move = lambda to, **extra: call("POST", f"/api/cases/{ref}/transitions", {"to": to, **extra})
move("triage", reason="reproducing")
move("confirmed")
embargo = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
call("PATCH", f"/api/cases/{ref}", {
    "cvss": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "cve_id": "CVE-2026-49999", "embargo_at": embargo,
    "versions": {"affected": ["1.0.0 through 1.4.2"], "fixed": ["1.4.3"]},
    "advisory": {"description": "The parser overflows its heap buffer. " * 20, "mitigation": "Upgrade to 1.4.3.",
                 "cwe": "CWE-122"}})
move("fixing")
for i, branch in enumerate(call("GET", f"/api/cases/{ref}/fixes")["branches"]):
    call("PUT", f"/api/cases/{ref}/fixes", {"branch": branch["branch"], "stage": "merged", "commit": f"{0xa1b2c3d + i:07x}"})
call("POST", f"/api/cases/{ref}/testing", {"text": "the regression test fails before the fix and passes after"})
move("fix-ready")
move("release-pending")
move("announced", not_sent_reason="announced by the benchmark", override_reason="benchmark")
print(ref)
