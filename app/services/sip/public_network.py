"""Keeps tenant-supplied hook URLs on the public internet (no SSRF into our own network).

A URL is refused when its host resolves to any loopback, private, link-local (cloud metadata lives at
169.254.169.254), shared (100.64/10), reserved or multicast address. The check runs when a hook is
written and again when each delivery connects: DNS can change in between, so `PublicOnlyAdapter`
checks the addresses before connecting and the address actually connected to before a byte is sent."""

from __future__ import annotations

import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}


class NotPublic(ValueError):
    """The URL's host is not (only) on the public internet, or cannot be resolved."""


def non_public_kind(address: str) -> str | None:
    """What kind of non-public address this is ("loopback", "private", ...), or None for a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "private", "multicast", "unspecified", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "non-global"


def resolve_public(host: str, port: int) -> None:
    """Raise NotPublic unless every address `host` resolves to is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise NotPublic(f"{host} cannot be resolved") from None
    for *_, sockaddr in infos:
        kind = non_public_kind(str(sockaddr[0]))
        if kind is not None:
            raise NotPublic(f"{host} resolves to a {kind} address")


def check_public_url(url: str) -> None:
    """Raise NotPublic unless the http(s) URL's host resolves only to public addresses."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 80)
    except ValueError:
        raise NotPublic("the URL is malformed") from None
    if not parts.hostname:
        raise NotPublic("the URL has no host")
    resolve_public(parts.hostname, port)


class _Refused(NewConnectionError):
    pass


def _guarded(connection_class):
    class Guarded(connection_class):  # type: ignore[misc,valid-type]  # urllib3's HTTP or HTTPS connection
        def _new_conn(self):
            try:
                resolve_public(self._dns_host, self.port)
            except NotPublic as exc:
                log.warning("SIP hook delivery refused: %s", exc)
                raise _Refused(self, f"refused: {exc}") from None
            sock = super()._new_conn()
            peer = sock.getpeername()[0]
            kind = non_public_kind(peer)
            if kind is not None:  # the name changed between our lookup and the connection's
                sock.close()
                log.warning("SIP hook delivery refused: %s connected to a %s address", self.host, kind)
                raise _Refused(self, f"refused: {self.host} connected to a {kind} address")
            return sock

    Guarded.__name__ = f"PublicOnly{connection_class.__name__}"
    return Guarded


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _guarded(HTTPConnection)


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _guarded(HTTPSConnection)


class PublicOnlyAdapter(HTTPAdapter):
    """A requests transport that only connects to public addresses (redirects included)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}
