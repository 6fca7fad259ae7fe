# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP(S) server, its /_emulator/ admin endpoints, and the command line that starts it."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .certificates import write_certificates
from .emulator import Emulator
from .messages import Request, first_values, json_reply
from .scenario import ScenarioError, load_scenario_text

ADMIN_PREFIX = "/_emulator/"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients' sessions expect
    server_version = "dms-emulator"
    timeout = 120  # an idle keep-alive connection frees its thread after this

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, in the connection's thread, not in the accept loop

    def do_GET(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith(ADMIN_PREFIX):
            self.send(self.admin(body))
            return
        reply = self.server.emulator.handle(Request(self.command, self.path, self.headers, body))
        if reply.drop:
            # A dropped connection: no status line at all, as when a gateway or load balancer resets it.
            self.close_connection = True
            if reply.garbage:
                # Written on the TCP stream under the TLS session (a duplicate of its socket), so that the client's
                # TLS layer fails where the answer should be, after the request arrived.
                with socket.socket(fileno=os.dup(self.connection.fileno())) as raw:
                    raw.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send(reply)

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def send(self, reply):
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def admin(self, body):
        """The unauthenticated /_emulator/ endpoints the tests use; never counted or logged as API calls."""
        emulator = self.server.emulator
        path, query = self.path.split("?", 1) if "?" in self.path else (self.path, "")
        action = (self.command, path[len(ADMIN_PREFIX):])
        if action == ("GET", "health"):
            return json_reply(200, {"status": "ok", "clock": round(emulator.scenario.clock.now(), 3)})
        if action == ("GET", "requests"):
            return json_reply(200, {"requests": emulator.requests(first_values(query).get("kind"))})
        if action == ("GET", "counts"):
            return json_reply(200, emulator.counts())
        if action == ("POST", "reset"):
            emulator.reset()
            return json_reply(200, {"status": "ok"})
        if action == ("POST", "scenario"):
            try:
                emulator.load(load_scenario_text(body.decode("utf-8")))
            except (ScenarioError, UnicodeError, KeyError, TypeError, ValueError) as error:
                return json_reply(400, {"error": str(error)})
            return json_reply(200, {"status": "ok"})
        return json_reply(404, {"error": "no admin endpoint %s %s" % action})

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: the JSON request log is the record."""


class Server(ThreadingHTTPServer):
    def __init__(self, address, emulator, tls=None):
        super().__init__(address, Handler)
        self.emulator = emulator
        self.tls = tls

    def get_request(self):
        connection, address = super().get_request()
        if self.tls is not None:
            connection = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def handle_error(self, request, client_address):
        # Clients that time out, reset, or refuse the certificate are part of the tests, not server errors.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, socket.timeout)):
            super().handle_error(request, client_address)


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Emulate the Huawei Cloud DMS background-task API on a local port.")
    parser.add_argument("--scenario", required=True, help="scenario file (YAML or JSON), see docs/emulator.md")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on; 0 picks a free one (default 8080)")
    parser.add_argument("--port-file", help="write the port here once listening (useful with --port 0)")
    parser.add_argument("--https", action="store_true", help="serve HTTPS with a freshly generated certificate")
    parser.add_argument("--cert-dir", default=".", help="with --https: where ca.pem, server.pem and server-key.pem are written")
    parser.add_argument("--log", help="append one JSON line per API request to this file")
    parser.add_argument("--stop-with-stdin", action="store_true",
                        help="stop when standard input closes, so the emulator ends with the process that started it, however that ends")
    return parser.parse_args(argv)


def stop_at_end_of_input(server):
    """Read standard input to its end (the starting process closed it or died), then stop serving."""
    # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader aborts the interpreter at exit.
    while os.read(sys.stdin.fileno(), 65536):
        pass
    server.shutdown()


def main(argv=None):
    args = parse_args(argv)
    try:
        with open(args.scenario, encoding="utf-8") as handle:
            emulator = Emulator(load_scenario_text(handle.read(), args.scenario), args.log)
    except (OSError, ScenarioError, KeyError, TypeError, ValueError) as error:
        print("dms_emulator: cannot load %s: %s" % (args.scenario, error), file=sys.stderr)
        return 2
    tls = None
    if args.https:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(*write_certificates(args.cert_dir))
    server = Server((args.host, args.port), emulator, tls)
    port = server.server_address[1]
    if args.port_file:
        # Written whole then renamed, so a reader never sees a half-written port.
        with open(args.port_file + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)

    def stop(signum, frame):  # pylint: disable=unused-argument
        # shutdown() waits for serve_forever() to return, so it must run outside this (serving) thread.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.stop_with_stdin:
        threading.Thread(target=stop_at_end_of_input, args=(server,), daemon=True).start()
    print("DMS emulator listening on %s://%s:%d (scenario %s)" % ("https" if tls else "http", args.host, port, args.scenario), flush=True)
    server.serve_forever(poll_interval=0.1)  # how soon a stop request is noticed
    server.server_close()
    emulator.close()
    return 0
