# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real HTTP server on 127.0.0.1 for the client's unit tests: it answers from a script and records every request.

    with ScriptedServer() as server:
        server.replies.extend([Reply(503), Reply(200, {"tasks": []})])   # answered in this order, then
        server.respond = lambda request: Reply(...)                       # this (optional) answers the rest
        ... requests to server.url ...
        server.requests  # [Request(method, path, query, headers, port), ...]
        server.received(1)  # waits (bounded) until the handler thread has recorded that many: after a client timeout

A Reply can delay its answer (to provoke read timeouts) or drop the connection without answering.
When the script is exhausted and no ``respond`` is set the server answers 418, which the client never retries.
"""

from __future__ import annotations

import json
import threading
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

Reply = namedtuple("Reply", "status body headers delay drop", defaults=(200, None, None, 0, False))
# query: the (key, value) pairs in the order sent; raw_query: the query string as sent; port: the client's port.
Request = namedtuple("Request", "method path query raw_query headers port body")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stall

    def _handle(self):
        scripted = self.server.scripted
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        request = Request(self.command, url.path, parse_qsl(url.query, keep_blank_values=True), url.query,
                          self.headers, self.client_address[1], body)
        with scripted.lock:
            scripted.requests.append(request)
            scripted.lock.notify_all()
            if scripted.replies:
                reply = scripted.replies.pop(0)
            elif scripted.respond:
                reply = scripted.respond(request)
            else:
                reply = Reply(418, {"error_code": "TEST.418", "error_msg": "the script has no reply left"})
        if reply.delay:
            scripted.stopping.wait(reply.delay)
        if reply.drop:
            self.close_connection = True
            return
        body = reply.body
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        try:
            self.send_response(reply.status)
            for name, value in (reply.headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")
        except OSError:  # the client gave up (read timeout) and closed its end
            self.close_connection = True

    do_GET = do_DELETE = do_POST = do_PUT = _handle

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # keep the test output clean


class ScriptedServer:
    def __init__(self):
        self.replies = []
        self.respond = None
        self.requests = []
        self.lock = threading.Condition()
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.scripted = self
        self.url = "http://127.0.0.1:%d" % self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()  # ends any delayed reply at once
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def received(self, count, within=30.0):
        """The requests once `count` of them are recorded, or as they are after `within` seconds.

        A client that timed out can be done before the handler thread has even read the request it sent (seen on a
        loaded machine), so a test that counts requests after a timeout waits for them first.
        """
        with self.lock:
            self.lock.wait_for(lambda: len(self.requests) >= count, within)
            return list(self.requests)

    def paths(self):
        return [request.path for request in self.requests]
