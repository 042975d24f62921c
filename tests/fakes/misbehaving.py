"""A provider (or the proxy in front of it) that misbehaves at the HTTP level, as a real server on
127.0.0.1: it answers every request with one scripted answer, byte for byte, which a well-behaved HTTP
server would refuse to send (a body shorter than its Content-Length, a body trickled a byte at a time, no
answer at all). Raw sockets, because werkzeug and Flask fix such answers up."""

from __future__ import annotations

import socket
import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: str = "200 OK"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_length: int | None = None  # default: len(body)
    trickle_seconds: float = 0.0  # > 0: send the body one byte at a time at this pace
    trickle_forever: bool = False  # after the body, keep sending a byte at that pace until stopped
    hang: bool = False  # read the request, then never answer
    echo_header: str | None = None  # `{echo}` in the body becomes this request header's value


class MisbehavingProvider:
    def __init__(self, answer: Answer | None = None):
        self.answer = answer or Answer()
        self.requests: list[dict] = []
        self._stopped = threading.Event()
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                owner._serve(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _serve(self, connection: socket.socket) -> None:
        head, body = _read_request(connection)
        if head is None:
            return
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        self.requests.append({"line": lines[0], "headers": headers, "body": body})
        answer = self.answer
        if answer.hang:
            self._stopped.wait()
            return
        body = answer.body
        if answer.echo_header:
            echoed = next((v for k, v in headers.items() if k.lower() == answer.echo_header.lower()), "")
            body = body.replace(b"{echo}", echoed.encode("latin-1"))
        length = len(body) if answer.content_length is None else answer.content_length
        head_out = [f"HTTP/1.1 {answer.status}", "Connection: close", *(f"{k}: {v}" for k, v in answer.headers.items())]
        if not answer.trickle_forever:  # an endless body has no length: it ends when the connection does
            head_out.append(f"Content-Length: {length}")
        try:
            connection.sendall(("\r\n".join(head_out) + "\r\n\r\n").encode("latin-1"))
            if not answer.trickle_seconds:
                connection.sendall(body)
            else:
                for index in range(len(body)):
                    connection.sendall(body[index : index + 1])
                    if self._stopped.wait(answer.trickle_seconds):
                        return
                while answer.trickle_forever and not self._stopped.wait(answer.trickle_seconds):
                    connection.sendall(b"\0")
        except OSError:  # the client gave up: that is what some tests wait for
            return

    def start(self) -> MisbehavingProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MisbehavingProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _read_request(connection: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body
