"""Forwards inbound SIP calls to the hook registered for their SIP host, signed as upstream Sayna does.

Delivery runs on a small background pool so LiveKit's webhook gets its answer at once; the queue is
bounded, and when it is full the event is dropped with a warning rather than piling up threads (LiveKit
retries webhooks it could not deliver, but not ones we accepted, so this is a deliberate trade-off)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

import requests
from livekit.protocol.webhook import WebhookEvent

from app.services.livekit.errors import LiveKitError
from app.services.livekit.metadata import MetadataNotAnObject, OwnedByAnotherTenant
from app.services.livekit.rooms import TenantRooms
from app.services.sip.hooks import Hook, SipHookRegistry
from app.services.sip.inbound import InboundCall, inbound_call
from app.services.sip.public_network import PublicOnlyAdapter
from app.settings import SipSettings

log = logging.getLogger(__name__)

DELIVERY_TIMEOUT_SECONDS = 5.0  # as upstream


class BoundedExecutor:
    """A thread pool that refuses work beyond `max_pending` queued-or-running jobs."""

    def __init__(self, workers: int, max_pending: int):
        self._workers = workers
        self._slots = threading.BoundedSemaphore(max_pending)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._pending = 0
        self._settled = threading.Condition()

    def submit(self, fn, *args) -> Future | None:
        if not self._slots.acquire(blocking=False):
            return None
        try:
            with self._lock:  # started on first use, so a forked worker never inherits a dead pool
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="sip-hook")
                future = self._pool.submit(fn, *args)
        except RuntimeError:  # shut down
            self._slots.release()
            return None
        with self._settled:
            self._pending += 1
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: Future) -> None:
        self._slots.release()
        with self._settled:
            self._pending -= 1
            self._settled.notify_all()

    def wait_until_idle(self, timeout: float) -> bool:
        """Whether every job submitted so far finished within `timeout` seconds."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=wait, cancel_futures=not wait)


def _public_only_session() -> requests.Session:
    """For hooks tenants wrote: every connection (redirects too) must reach a public address, checked
    at connect time because DNS may have changed since the hook was written. Proxies from the
    environment are not used: the check must see the real destination."""
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", PublicOnlyAdapter())
    session.mount("https://", PublicOnlyAdapter())
    return session


def signature(secret: str, timestamp: str, event_id: str, body: str) -> str:
    """`v1=<hex HMAC-SHA256(secret, "v1:{timestamp}:{event_id}:{body}")>`, what the SDKs' WebhookReceiver checks."""
    digest = hmac.new(secret.encode(), f"v1:{timestamp}:{event_id}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v1={digest}"


class SipEventForwarder:
    def __init__(
        self,
        settings: SipSettings,
        hooks: SipHookRegistry,
        rooms: TenantRooms,
        *,
        workers: int = 4,
        max_pending: int = 64,
    ):
        self.settings = settings
        self.hooks = hooks
        self.rooms = rooms
        self._executor = BoundedExecutor(workers, max_pending)
        self._session = requests.Session()  # hooks from SIP_HOOKS_JSON: the operator's own, sent anywhere
        self._runtime_session = self._session if settings.hooks_allow_private else _public_only_session()

    def handle(self, event: WebhookEvent) -> Future | None:
        """Queue the delivery of a SIP `participant_joined` event; None when there is nothing to send."""
        if not self.settings.configured:
            return None
        call = inbound_call(event)
        if call is None:
            return None
        hook = self.hooks.find(call.sip_host)
        if hook is None:
            log.info("no SIP hook for host %s", call.sip_host)
            return None
        secret = hook.secret or self.settings.hook_secret
        if not secret:
            log.warning("SIP hook for host %s has no secret and SIP_HOOK_SECRET is unset: not forwarded", hook.host)
            return None
        future = self._executor.submit(self._deliver, hook, secret, call, event.id or uuid.uuid4().hex)
        if future is None:
            log.warning("SIP hook queue full: event for host %s dropped", hook.host)
        return future

    def wait_until_idle(self, timeout: float = DELIVERY_TIMEOUT_SECONDS * 2) -> bool:
        """Whether every delivery queued so far has been attempted (sent, refused or failed) within `timeout`."""
        return self._executor.wait_until_idle(timeout)

    def close(self) -> None:
        self._executor.shutdown(wait=False)
        self._session.close()
        self._runtime_session.close()

    def _deliver(self, hook: Hook, secret: str, call: InboundCall, event_id: str) -> int | None:
        if hook.auth_id:
            self._claim_room(hook.auth_id, call.room_name)
        body = json.dumps(self._payload(call), separators=(",", ":"))
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Sayna-Signature": signature(secret, timestamp, event_id, body),
            "X-Sayna-Timestamp": timestamp,
            "X-Sayna-Event-Id": event_id,
            "X-Sayna-Signature-Version": "v1",
        }
        session = self._session if hook.configured else self._runtime_session
        try:
            response = session.post(hook.url, data=body.encode(), headers=headers, timeout=DELIVERY_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            log.warning("SIP hook delivery to host %s failed: %s", hook.host, type(exc).__name__)
            return None
        if response.status_code >= 300:
            log.warning("SIP hook for host %s answered HTTP %s", hook.host, response.status_code)
        return response.status_code

    def _claim_room(self, tenant: str, room_name: str) -> None:
        try:
            self.rooms.claim(tenant, room_name)
        except OwnedByAnotherTenant:
            log.warning("room %s of an inbound call belongs to another tenant; left as is", room_name)
        except (MetadataNotAnObject, LiveKitError) as exc:
            log.warning("could not mark room %s as the hook tenant's: %s", room_name, exc)

    def _payload(self, call: InboundCall) -> dict:
        participant = {"identity": call.participant_identity, "sid": call.participant_sid}
        if call.participant_name:  # the Node SDK's receiver rejects null and empty optional names
            participant["name"] = call.participant_name
        return {
            "participant": participant,
            "room": {"name": call.room_name, "sid": call.room_sid},
            "from_phone_number": call.from_phone_number,
            "to_phone_number": call.to_phone_number,
            "room_prefix": self.settings.room_prefix,
            "sip_host": call.sip_host,
            "sip_headers": call.sip_headers,
        }
