"""Hook URLs stay on the public internet: the address rules, and the delivery transport that checks the
address it actually connects to (DNS rebinding)."""

from __future__ import annotations

import socket

import pytest
import requests

from app.services.sip.public_network import NotPublic, PublicOnlyAdapter, check_public_url, non_public_kind
from tests.fakes.server import FakeServer
from tests.fakes.sip_hook_receiver import FakeSipHookReceiver


@pytest.mark.parametrize(
    "address, kind",
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd00:ec2::254", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("100.100.100.200", "non-global"),  # shared address space (Alibaba Cloud's metadata service)
        ("0.0.0.0", "private"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),
        ("93.184.216.34", None),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_kinds(address, kind):
    assert non_public_kind(address) == kind


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:3001/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://[::1]/",
        "http://no-such-host.invalid/",
        "http:///no-host",
        "http://[::1/",
    ],
)
def test_urls_inside_the_network_or_unresolvable_are_refused(url):
    with pytest.raises(NotPublic):
        check_public_url(url)


def test_a_public_address_is_accepted():
    check_public_url("https://93.184.216.34:8443/events?x=1")


@pytest.fixture
def receiver():
    receiver = FakeSipHookReceiver("secret-of-these-tests")
    with FakeServer(receiver.app) as server:
        receiver.port = server.port
        yield receiver


def test_the_transport_refuses_a_name_that_resolves_inside_the_network(receiver):
    session = requests.Session()
    session.mount("http://", PublicOnlyAdapter())
    with pytest.raises(requests.ConnectionError, match="loopback"):
        session.post(f"http://localhost:{receiver.port}/sip-events", data=b"{}", timeout=5)
    assert receiver.deliveries == [] and receiver.rejected == []


def test_the_transport_checks_the_address_it_connected_to(receiver, monkeypatch):
    """DNS rebinding: the name looks public when checked, then resolves to loopback for the connection."""
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.216.34", "127.0.0.1"])

    def rebinding_dns(host, port, *args, **kwargs):
        if host == "rebind.example":
            return real_getaddrinfo(next(answers), port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    session = requests.Session()
    session.mount("http://", PublicOnlyAdapter())
    with pytest.raises(requests.ConnectionError, match="connected to a loopback address"):
        session.post(f"http://rebind.example:{receiver.port}/sip-events", data=b"{}", timeout=5)
    assert receiver.deliveries == [] and receiver.rejected == []
