"""What this process holds open, read from /proc (Linux only: mark the tests that use it `linux_only`)."""

from __future__ import annotations

import os
import sys

import pytest

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="counts connections and files through /proc")

OPEN_ON_OUR_SIDE = {"01", "08"}  # ESTABLISHED, CLOSE_WAIT (the server finished sending, we have not closed)


def open_connections_to(port: int) -> int:
    """TCP connections of this machine to 127.0.0.1:`port` that the client side has not closed."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if table.endswith("6") and not os.path.exists(table):  # IPv6 disabled; the IPv4 table always exists
            continue
        with open(table) as handle:
            lines = handle.read().splitlines()[1:]
        for line in lines:
            fields = line.split()
            remote_port, state = int(fields[2].rsplit(":", 1)[1], 16), fields[3]
            count += remote_port == port and state in OPEN_ON_OUR_SIDE
    return count


def open_files_named(path) -> int:
    """File descriptors of this process open on `path`."""
    target = str(path)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == target
        except OSError:
            pass
    return count
