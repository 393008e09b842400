"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, on a free port, writing each
message it accepts to DIR/NNNN.eml. It prints its port, then runs until its stdin closes,
so it stops by itself when the test that started it ends.

With SINK_RCPT_DELAY (seconds), each RCPT waits that long before it is accepted, and the
client's port is written to DIR/rcpt-NNNN.port first: a test can then kill the client in
the middle of a transaction, before any message content was sent.

With SINK_TLS=starttls or implicit (and SINK_CERT, SINK_KEY: PEM files), the sink speaks
TLS: STARTTLS offered and required before MAIL, or TLS from the first byte. With
SINK_AUTH=user:password it requires AUTH (PLAIN or LOGIN, over TLS only). Each message then
records how it came: X-Sink-Tls and X-Sink-Auth after X-Envelope-To."""
import asyncio
import os
import ssl
import socket
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if os.environ.get("SINK_REJECT"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        delay = float(os.environ.get("SINK_RCPT_DELAY", "0"))
        if delay > 0:
            with self.lock:
                self.count += 1
                marker = os.path.join(self.directory, f"rcpt-{self.count:04d}.port")
            with open(marker, "w") as f:
                f.write(f"{session.peer[1]} {address}")
            await asyncio.sleep(delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            name = os.path.join(self.directory, f"{self.count:04d}.eml")
        tmp = name + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
            if os.environ.get("SINK_TLS") or os.environ.get("SINK_AUTH"):
                secured = session.ssl or server.transport.get_extra_info("ssl_object")
                tls = "yes" if secured else "no"
                user = session.auth_data.login.decode() if session.authenticated else "-"
                f.write(f"X-Sink-Tls: {tls}\r\nX-Sink-Auth: {user}\r\n".encode())
            f.write(envelope.original_content)
        os.rename(tmp, name)
        return "250 OK"


def main():
    directory = sys.argv[1]
    # A free port: the controller checks readiness by connecting to the port it was given.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    options = {}
    mode = os.environ.get("SINK_TLS")
    if mode:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(os.environ["SINK_CERT"], os.environ["SINK_KEY"])
        if mode == "implicit":
            options["ssl_context"] = context
        else:
            options["tls_context"] = context
            options["require_starttls"] = True
    credentials = os.environ.get("SINK_AUTH")
    if credentials:
        user, password = credentials.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        options["authenticator"] = authenticator
        options["auth_required"] = True
        # aiosmtpd counts only STARTTLS as TLS here; with implicit TLS every byte is.
        options["auth_require_tls"] = mode != "implicit"
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print(port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
