"""How a fake provider sends its audio body, for the tests of streaming: a first part, then (held) nothing
until the test releases the rest; or a connection cut after the first part, a Content-Length announcing
more than is sent, a body trickled chunk by chunk. A provider fake with a `pacing` set answers its audio
through `Pacing.response`, over its real HTTP server (werkzeug's, chunked when no length is announced, as
the providers' streaming endpoints answer)."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

from flask import Response, request


@dataclass
class Pacing:
    first: int = 4096  # bytes sent at once, before anything else
    hold: bool = True  # then wait for `release` before the rest
    cut: bool = False  # after the release, drop the connection instead of sending the rest
    announce_extra: int | None = None  # Content-Length announcing this many bytes more than are sent
    trickle_seconds: float = 0.0  # > 0: the rest `chunk` bytes at a time, at this pace
    trickle_forever: bool = False  # then keep trickling zeros until the client goes away
    silent_after: int | None = None  # after this many chunks of the rest, send nothing until the client leaves
    hold_after: int | None = None  # after this many chunks of the rest, wait for `release_again`
    chunk: int = 1024
    content_type: str | None = None  # instead of the audio's
    body: bytes | None = None  # instead of the audio (garbage)
    release: threading.Event = field(default_factory=threading.Event)
    release_again: threading.Event = field(default_factory=threading.Event)
    held_again: threading.Event = field(default_factory=threading.Event)  # `hold_after` chunks went out
    first_sent: threading.Event = field(default_factory=threading.Event)
    abandoned: threading.Event = field(default_factory=threading.Event)  # the client left before the end
    finished: threading.Event = field(default_factory=threading.Event)  # the whole body went out
    stopped: threading.Event = field(default_factory=threading.Event)  # the test is over: stop waiting

    def stop(self) -> None:
        self.stopped.set()
        self.release.set()
        self.release_again.set()

    def response(self, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> Response:
        headers = dict(headers or {})
        data = data if self.body is None else self.body
        content_type = self.content_type or content_type
        if self.announce_extra is not None:
            headers["Content-Length"] = str(len(data) + self.announce_extra)
            headers["Connection"] = "close"  # else werkzeug would wait on the connection for the next request
        # the socket, to cut: an exception in the body would not do (werkzeug then writes its 500 page into
        # the chunked body it started, and ends it properly)
        connection = request.environ.get("werkzeug.socket")
        response = Response(self._body(data, connection), mimetype=content_type, headers=headers)
        if self.announce_extra is None:
            response.headers.pop("Content-Length", None)
        return response

    def _body(self, data: bytes, connection: socket.socket | None):
        completed = False
        try:
            yield data[: self.first]
            self.first_sent.set()
            if self.hold and (not self.release.wait(30) or self.stopped.is_set()):
                return
            if self.cut:
                assert connection is not None, "served by werkzeug"
                connection.shutdown(socket.SHUT_RDWR)  # the client sees the body break off
                return
            rest = data[self.first :]
            for sent, start in enumerate(range(0, len(rest), self.chunk)):
                if sent == self.silent_after:
                    self.stopped.wait(30)
                    return
                if sent == self.hold_after:
                    self.held_again.set()
                    if not self.release_again.wait(30) or self.stopped.is_set():
                        return
                yield rest[start : start + self.chunk]
                if self.trickle_seconds and self.abandoned.wait(self.trickle_seconds):
                    return
            while self.trickle_forever and not self.abandoned.wait(self.trickle_seconds):
                yield b"\0\0" * (self.chunk // 2)
            completed = True
            self.finished.set()
        finally:
            if not completed:  # werkzeug closes the body when the client went away (GeneratorExit)
                self.abandoned.set()
