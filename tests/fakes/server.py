"""Run a WSGI app (a fake upstream API) on a real 127.0.0.1 port in a background thread."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server


class FakeServer:
    def __init__(self, wsgi_app, host: str = "127.0.0.1"):
        self._server = make_server(host, 0, wsgi_app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        # a short poll interval makes stop() return in ~50 ms instead of the default 0.5 s
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def unused_port_url() -> str:
    """A URL on which nothing listens (for 'service unreachable' cases)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def barrier_passed(barrier: threading.Barrier | None) -> bool:
    """Wait for the other parties of a test's barrier (proof that callers ask at the same time)."""
    if barrier is None:
        return True
    try:
        barrier.wait(timeout=5)
    except threading.BrokenBarrierError:
        return False
    return True
