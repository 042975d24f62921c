"""One thread that runs each action registered with it at its instant (a monotonic time), unless cancelled
first: how a provider call's deadline cuts a body still arriving. One `threading.Timer` a call cost about
0.4 ms to start and cancel (measured on the 2-core CI machine), a fifth of the 2 ms a miss may add, and a
thread each for as long as the call lasts; here a call costs a heap push and a cancel.

The thread starts on first use, and again in a forked child (gunicorn forks its workers, and a thread does
not survive a fork; neither may a lock held at that moment, so the child starts from a fresh state).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger("app.tts.watchdog")


class Watchdog:
    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._wakeup = threading.Condition(threading.Lock())
        self._due: list[tuple[float, int]] = []  # (instant, token), earliest first
        self._actions: dict[int, Callable[[], None]] = {}  # the tokens not yet run nor cancelled
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def call_at(self, instant: float, action: Callable[[], None]) -> int:
        """Run `action` on the watchdog's thread at `instant` (time.monotonic); the token cancels it."""
        with self._wakeup:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tts-deadlines", daemon=True)
                self._thread.start()
            token = next(self._tokens)
            self._actions[token] = action
            heapq.heappush(self._due, (instant, token))
            if self._due[0][1] == token:  # earlier than what the thread waits for
                self._wakeup.notify()
            return token

    def cancel(self, token: int) -> None:
        with self._wakeup:
            self._actions.pop(token, None)

    def pending(self) -> int:
        """How many actions wait (for tests and metrics)."""
        with self._wakeup:
            return len(self._actions)

    def _run(self) -> None:
        while True:
            with self._wakeup:
                now = time.monotonic()
                ready = []
                while self._due and self._due[0][0] <= now:
                    _, token = heapq.heappop(self._due)
                    action = self._actions.pop(token, None)
                    if action is not None:
                        ready.append(action)
                if not ready:
                    self._wakeup.wait(self._due[0][0] - now if self._due else None)
                    continue
            for action in ready:  # outside the lock: an action may take locks of its own
                try:
                    action()
                except Exception:  # a failing action must not stop the others' deadlines
                    log.exception("a deadline action failed")


WATCHDOG = Watchdog()
