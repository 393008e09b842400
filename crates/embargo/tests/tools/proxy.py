"""A small reverse proxy for the tests, as nginx would stand in front of several
Embargo servers: it listens on 127.0.0.1 on a free port, sends each request to the next
backend in turn from the source address 127.0.0.2, and appends the client's address to
X-Forwarded-For. Each response says which backend answered (X-Proxy-Backend). It prints
its port, then runs until its stdin closes.

Usage: proxy.py PORT [PORT...]"""
import http.client
import http.server
import itertools
import sys
import threading

BACKENDS = [int(p) for p in sys.argv[1:]]
NEXT = itertools.cycle(range(len(BACKENDS)))
LOCK = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        with LOCK:
            index = next(NEXT)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        previous = self.headers.get("X-Forwarded-For")
        client = self.client_address[0]
        headers["X-Forwarded-For"] = f"{previous}, {client}" if previous else client
        conn = http.client.HTTPConnection(
            "127.0.0.1", BACKENDS[index], timeout=30, source_address=("127.0.0.2", 0)
        )
        conn.request(self.command, self.path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        self.send_response(response.status)
        for k, v in response.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Proxy-Backend", str(index))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
