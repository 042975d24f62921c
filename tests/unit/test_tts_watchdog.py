"""The deadline watchdog: one thread running each action at its instant, in instant order, unless
cancelled; proved by the order actions run in (events), never by waiting to see that nothing happens."""

import os
import threading
import time

from app.services.tts.watchdog import Watchdog


def test_actions_run_in_the_order_of_their_instants_not_of_their_registration():
    watchdog, ran, done, running = Watchdog(), [], threading.Event(), threading.Event()
    watchdog.call_at(time.monotonic(), running.set)
    assert running.wait(5)  # the thread runs, and goes on to wait for what is due next
    now = time.monotonic()
    watchdog.call_at(now + 600, lambda: ran.append("much later"))
    watchdog.call_at(now + 0.2, lambda: (ran.append("early"), done.set()))  # wakes the thread waiting 600 s
    watchdog.call_at(now - 1, lambda: ran.append("overdue"))
    assert done.wait(5)
    assert ran == ["overdue", "early"]
    assert watchdog.pending() == 1


def test_a_cancelled_action_never_runs():
    watchdog, ran, done = Watchdog(), [], threading.Event()
    now = time.monotonic()
    token = watchdog.call_at(now + 0.1, lambda: ran.append("cancelled"))
    watchdog.call_at(now + 0.2, lambda: (ran.append("kept"), done.set()))
    watchdog.cancel(token)
    assert done.wait(5)
    assert ran == ["kept"]  # the cancelled one was due first: had it run, it would be in the list


def test_a_failing_action_does_not_stop_the_others():
    watchdog, done = Watchdog(), threading.Event()
    now = time.monotonic()
    watchdog.call_at(now, lambda: 1 / 0)
    watchdog.call_at(now + 0.05, done.set)
    assert done.wait(5)


def test_a_forked_child_gets_a_watchdog_of_its_own():
    watchdog, ran = Watchdog(), threading.Event()
    watchdog.call_at(time.monotonic(), ran.set)  # the parent's thread is running
    assert ran.wait(5)
    pid = os.fork()
    if pid == 0:  # the child: no thread survived the fork, a fresh one must start
        done = threading.Event()
        watchdog.call_at(time.monotonic(), done.set)
        os._exit(0 if done.wait(5) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
