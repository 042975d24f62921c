"""Inbound SIP on LiveKit: the trunk that accepts calls from SIP_ALLOWED_ADDRESSES and the dispatch rule
that puts each caller in its own `{SIP_ROOM_PREFIX}…` room, made to exist once per deployment.

Upstream provisions at start-up and panics when LiveKit is unreachable. We start anyway: the gunicorn
master starts this module as a process of its own (`python -m app.services.sip.provisioning`; a thread
in the master would be inherited mid-flight by every worker it forks), which retries with capped
exponential backoff and writes its state to a small status file every worker's `/ready` reads
(`sip_provisioning`), then exits. Everything is found by name, so provisioning is idempotent; a
database lock keeps two hosts from creating twins."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from livekit.protocol import room as proto_room
from livekit.protocol import sip as proto_sip

from app.db import Database
from app.db.locks import exclusive
from app.services.livekit.client import LiveKitClient
from app.services.livekit.errors import LiveKitError
from app.settings import LiveKitSettings, Settings, SipSettings

log = logging.getLogger(__name__)

PROVISIONING_LOCK_KEY = 0x5A7A_0002  # PostgreSQL advisory lock shared by every host of a deployment
_MAX_PARTICIPANTS = 3  # caller, agent, one more (upstream intends this and never sends it)


def trunk_name(settings: SipSettings) -> str:
    return f"sayna-{settings.room_prefix}-trunk"


def dispatch_rule_name(settings: SipSettings) -> str:
    return f"sayna-{settings.room_prefix}-dispatch"


def inbound_provisioning_enabled(sip: SipSettings, livekit: LiveKitSettings) -> bool:
    """LiveKit refuses an inbound trunk without numbers, credentials or allowed addresses, so without
    SIP_ALLOWED_ADDRESSES there is nothing to provision (outbound calls still work)."""
    return sip.configured and livekit.configured and bool(sip.allowed_addresses)


@dataclass(frozen=True)
class ProvisioningResult:
    trunk_id: str
    dispatch_rule_id: str
    changed: tuple[str, ...]  # what this run created or updated, e.g. ("trunk created",)


def provision_inbound(sip: SipSettings, client: LiveKitClient) -> ProvisioningResult:
    """Make the inbound trunk and dispatch rule exist as configured. Raises LiveKitError."""
    changed: list[str] = []
    addresses = list(sip.allowed_addresses)
    trunk = next((t for t in client.list_sip_inbound_trunks() if t.name == trunk_name(sip)), None)
    if trunk is None:
        trunk = client.create_sip_inbound_trunk(
            proto_sip.SIPInboundTrunkInfo(
                name=trunk_name(sip),
                numbers=[],
                allowed_addresses=addresses,
                include_headers=proto_sip.SIPHeaderOptions.SIP_ALL_HEADERS,
                media_encryption=proto_sip.SIPMediaEncryption.SIP_MEDIA_ENCRYPT_DISABLE,
            )
        )
        changed.append("trunk created")
    elif sorted(trunk.allowed_addresses) != sorted(addresses):
        # Upstream never updates an existing trunk, so a changed SIP_ALLOWED_ADDRESSES was silently ignored.
        trunk = client.set_sip_inbound_trunk_addresses(trunk.sip_trunk_id, addresses)
        changed.append("trunk allowed addresses updated")
    rule = next((r for r in client.list_sip_dispatch_rules() if r.name == dispatch_rule_name(sip)), None)
    if rule is None:
        rule = client.create_sip_dispatch_rule(
            proto_sip.SIPDispatchRuleInfo(
                name=dispatch_rule_name(sip),
                rule=proto_sip.SIPDispatchRule(
                    dispatch_rule_individual=proto_sip.SIPDispatchRuleIndividual(
                        room_prefix=sip.room_prefix or "", pin=""
                    )
                ),
                room_config=proto_room.RoomConfiguration(max_participants=_MAX_PARTICIPANTS),
            )
        )
        changed.append("dispatch rule created")
    return ProvisioningResult(trunk.sip_trunk_id, rule.sip_dispatch_rule_id, tuple(changed))


class ProvisioningStatus:
    """The provisioner's state in a JSON file, so every worker process can report it in `/ready`."""

    FILE_NAME = "sip_provisioning.json"

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / self.FILE_NAME

    def write(self, state: str, detail: str = "") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".sip_provisioning-")
        with os.fdopen(fd, "w") as handle:
            json.dump({"state": state, "detail": detail}, handle)
        os.replace(temporary, self.path)

    def check(self) -> str:
        """`ok`, or `error: <why>`, for the readiness probe."""
        try:
            status = json.loads(self.path.read_text())
        except FileNotFoundError:
            return "error: not started (the gunicorn master provisions it)"
        except (OSError, ValueError):
            return "error: status unreadable"
        if status.get("state") == "ok":
            return "ok"
        return f"error: {status.get('detail') or status.get('state')}"


class InboundProvisioner:
    """Provisions until it succeeds, waiting 1, 2, 4 … (at most `max_delay`) seconds, with jitter,
    between attempts, and keeps `status` up to date."""

    def __init__(
        self,
        sip: SipSettings,
        livekit: LiveKitSettings,
        status: ProvisioningStatus,
        lock: Callable[[], AbstractContextManager],
        *,
        first_delay: float = 1.0,
        max_delay: float = 60.0,
    ):
        self.sip = sip
        self.livekit = livekit
        self.status = status
        self._lock = lock
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._stop = threading.Event()

    @classmethod
    def for_deployment(cls, settings: Settings) -> InboundProvisioner | None:
        """The provisioner of this deployment, serialised across hosts by a database lock; None when
        inbound SIP is not configured."""
        if not inbound_provisioning_enabled(settings.sip, settings.livekit):
            return None

        @contextmanager
        def deployment_lock():
            # A connection only while an attempt runs: nothing is held open during the pauses.
            database = Database(settings.database_url)
            try:
                with exclusive(database, settings.data_dir / ".sip-provisioning.lock", PROVISIONING_LOCK_KEY):
                    yield
            finally:
                database.dispose()

        return cls(settings.sip, settings.livekit, ProvisioningStatus(settings.data_dir), deployment_lock)

    def stop(self) -> None:
        """Make `run` return (from a signal handler or another thread)."""
        self._stop.set()

    def attempt(self) -> ProvisioningResult:
        client = LiveKitClient(
            self.livekit.http_url,
            self.livekit.api_key or "",
            self.livekit.api_secret or "",
            timeout=self.livekit.request_timeout_seconds,
        )
        try:
            with self._lock():
                return provision_inbound(self.sip, client)
        finally:
            client.close()

    def run(self, *, abandoned: Callable[[], bool] = lambda: False) -> bool:
        """Provision, retrying until it succeeds (True), `stop` is called or `abandoned()` (False)."""
        delay = self._first_delay
        while not (self._stop.is_set() or abandoned()):
            try:
                result = self.attempt()
            except LiveKitError as exc:
                reason = exc.message
            except Exception as exc:  # noqa: BLE001 - the database lock or anything else: keep retrying
                log.exception("SIP inbound provisioning failed")
                reason = f"{type(exc).__name__}"
            else:
                self.status.write("ok", ", ".join(result.changed) or "already provisioned")
                log.info(
                    "SIP inbound trunk %s (%s) and dispatch rule %s (%s) provisioned: %s",
                    trunk_name(self.sip),
                    result.trunk_id,
                    dispatch_rule_name(self.sip),
                    result.dispatch_rule_id,
                    ", ".join(result.changed) or "nothing to change",
                )
                return True
            wait = delay * random.uniform(0.8, 1.2)  # jitter: hosts restarted together do not retry in step
            self.status.write("failing", f"{reason}; retrying in {wait:.0f} s")
            log.warning("SIP inbound provisioning failed: %s; retrying in %.1f s", reason, wait)
            self._stop.wait(wait)
            delay = min(delay * 2, self._max_delay)
        return False


def main() -> int:
    """The provisioning process the gunicorn master starts: same environment, same settings."""
    from app.log import configure_logging

    settings = Settings.from_env()
    configure_logging(settings)
    provisioner = InboundProvisioner.for_deployment(settings)
    if provisioner is None:
        return 0
    signal.signal(signal.SIGTERM, lambda *_: provisioner.stop())
    master = os.getppid()
    try:
        provisioner.run(abandoned=lambda: os.getppid() != master)  # the master is gone: so is our purpose
    except KeyboardInterrupt:  # Ctrl-C in the terminal reaches the whole process group
        pass
    return 0  # never gunicorn's worker-boot-error codes (3, 4), whatever happened


if __name__ == "__main__":  # run as a script: log under the module's real name
    from app.services.sip.provisioning import main as provisioning_main

    sys.exit(provisioning_main())
