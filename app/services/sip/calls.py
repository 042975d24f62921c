"""Outbound SIP calls and SIP REFER transfers through LiveKit SIP.

A call goes out either through the trunk named by SIP_OUTBOUND_TRUNK_ID or through a per-call trunk
(LiveKit's `SIPOutboundConfig`) built from SIP_OUTBOUND_ADDRESS/credentials and the request's `sip`
overrides. Per-call trunks mean no trunk has to be listed, created or kept in sync, and a request's
overrides are always honoured (upstream silently ignores them once a trunk exists for the number)."""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf.duration_pb2 import Duration
from livekit.protocol import models
from livekit.protocol import sip as proto_sip

from app.errors import BadRequest, NotConfigured, NotFound, UpstreamError
from app.services.livekit.errors import LiveKitError, LiveKitNotConfigured, LiveKitUnreachable
from app.services.livekit.metadata import MetadataNotAnObject, OwnedByAnotherTenant, owner_of
from app.services.livekit.rooms import TenantRooms
from app.services.sip.phone import InvalidPhoneNumber, bare_number, normalize_phone_number
from app.settings import SipSettings

RINGING_TIMEOUT_SECONDS = 30
# LiveKit holds CreateSIPParticipant while it sets the call up (up to the ringing window); like the
# official SDK we wait that long plus a margin.
_CALL_HTTP_TIMEOUT = RINGING_TIMEOUT_SECONDS + 2
# A transfer that LiveKit has not confirmed within this window is reported as "initiated" (upstream).
TRANSFER_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class SipOverrides:
    """The request's optional `sip` object: each field, when given, wins over the configuration."""

    outbound_address: str | None = None
    auth_username: str | None = None
    auth_password: str | None = field(default=None, repr=False)

    @property
    def empty(self) -> bool:
        return self.outbound_address is None and self.auth_username is None and self.auth_password is None


@dataclass(frozen=True)
class PlacedCall:
    room_name: str
    participant_identity: str
    participant_id: str
    sip_call_id: str
    status: str = "initiated"  # LiveKit is ringing the number; the call is not answered yet


@dataclass(frozen=True)
class Transfer:
    status: str  # "completed", or "initiated" while LiveKit is still ringing the new party
    room_name: str
    participant_identity: str
    transfer_to: str  # tel:<number>


@dataclass(frozen=True)
class _Route:
    trunk_id: str = ""
    trunk: proto_sip.SIPOutboundConfig | None = None
    password: str = field(default="", repr=False)


class SipCalls:
    def __init__(
        self, settings: SipSettings, rooms: TenantRooms, *, transfer_wait_seconds: float = TRANSFER_WAIT_SECONDS
    ):
        self.settings = settings
        self.rooms = rooms
        self.transfer_wait_seconds = transfer_wait_seconds

    def call(
        self,
        tenant: str | None,
        room_name: str,
        participant_name: str,
        participant_identity: str,
        from_phone_number: str,
        to_phone_number: str,
        overrides: SipOverrides | None = None,
    ) -> PlacedCall:
        to_tel = _phone("to_phone_number", to_phone_number)
        from_tel = _phone("from_phone_number", from_phone_number)
        route = self._route(overrides or SipOverrides())
        client = self._client()
        if tenant is not None:
            self._prepare_room(tenant, room_name)
        request = proto_sip.CreateSIPParticipantRequest(
            sip_trunk_id=route.trunk_id,
            trunk=route.trunk,
            sip_call_to=bare_number(to_tel),
            sip_number=bare_number(from_tel),
            room_name=room_name,
            participant_identity=participant_identity,
            participant_name=participant_name,
            ringing_timeout=Duration(seconds=RINGING_TIMEOUT_SECONDS),
            wait_until_answered=False,
        )
        try:
            info = client.create_sip_participant(request, timeout=_CALL_HTTP_TIMEOUT)
        except LiveKitError as exc:
            raise UpstreamError(
                f"SIP call failed: {self._without_passwords(exc.message, route)}", code="call_failed"
            ) from None
        return PlacedCall(info.room_name, info.participant_identity, info.participant_id, info.sip_call_id)

    def transfer(self, tenant: str | None, room_name: str, participant_identity: str, transfer_to: str) -> Transfer:
        try:
            target = normalize_phone_number(transfer_to)
        except InvalidPhoneNumber as exc:
            raise BadRequest(f"Invalid phone number: {exc}", code="invalid_phone_number") from None
        client = self._client()
        self.rooms.require_access(
            tenant,
            room_name,
            NotFound("Room not found or not accessible", code="room_access_denied"),
            failure_code="transfer_failed",
        )
        not_sip = NotFound(
            f"Participant '{participant_identity}' not found or is not a SIP participant", code="participant_not_found"
        )
        try:
            participants = client.list_participants(room_name)
        except LiveKitError as exc:
            if exc.not_found:
                raise not_sip from None
            raise UpstreamError(f"Failed to verify participant: {exc.message}", code="transfer_failed") from None
        if not any(
            p.identity == participant_identity and p.kind == models.ParticipantInfo.Kind.SIP for p in participants
        ):
            raise not_sip
        status = "completed"
        try:
            client.transfer_sip_participant(
                room_name,
                participant_identity,
                target,
                ringing_timeout_seconds=RINGING_TIMEOUT_SECONDS,
                timeout=self.transfer_wait_seconds,
            )
        except LiveKitUnreachable as exc:
            if not exc.timed_out:
                raise UpstreamError(f"SIP transfer failed: {exc.message}", code="transfer_failed") from None
            status = "initiated"  # LiveKit has the REFER and is still ringing the new party
        except LiveKitError as exc:
            raise UpstreamError(f"SIP transfer failed: {exc.message}", code="transfer_failed") from None
        return Transfer(status, room_name, participant_identity, target)

    # --- steps ---------------------------------------------------------------------------------

    def _client(self):
        if not (self.settings.configured and self.rooms.settings.configured):
            raise LiveKitNotConfigured("LiveKit SIP service not configured")
        return self.rooms.client

    def _route(self, overrides: SipOverrides) -> _Route:
        if overrides.empty and self.settings.outbound_trunk_id:
            return _Route(trunk_id=self.settings.outbound_trunk_id)
        address = (
            overrides.outbound_address if overrides.outbound_address is not None else self.settings.outbound_address
        )
        if not address or not address.strip():
            raise NotConfigured("Outbound address not configured", code="outbound_address_not_configured")
        username = (
            overrides.auth_username if overrides.auth_username is not None else self.settings.outbound_auth_username
        )
        password = (
            overrides.auth_password if overrides.auth_password is not None else self.settings.outbound_auth_password
        )
        trunk = proto_sip.SIPOutboundConfig(
            hostname=address.strip(), auth_username=username or "", auth_password=password or ""
        )
        return _Route(trunk=trunk, password=password or "")

    def _without_passwords(self, text: str, route: _Route) -> str:
        """LiveKit's error text can quote what the carrier saw; no SIP password may reach a response or log."""
        for password in (route.password, self.settings.outbound_auth_password):
            if password:
                text = text.replace(password, "***")
        return text

    def _prepare_room(self, tenant: str, room_name: str) -> None:
        """The caller must own the room; a missing room is claimed and created as theirs before dialling,
        so the call never lands in a room another tenant could claim first. An existing room nobody owns
        is refused, as upstream."""
        denied = NotFound("Room not found or not accessible", code="room_access_denied")
        room = self.rooms.find_room(room_name, failure_code="call_failed")
        if room is not None:
            if owner_of(room.metadata) != tenant:
                raise denied
            return
        try:
            self.rooms.claim(tenant, room_name)
        except (OwnedByAnotherTenant, MetadataNotAnObject):
            raise denied from None
        except LiveKitError as exc:
            raise UpstreamError(f"Failed to prepare room: {exc.message}", code="call_failed") from None


def _phone(field_name: str, value: str) -> str:
    try:
        return normalize_phone_number(value)
    except InvalidPhoneNumber as exc:
        raise BadRequest(f"Invalid {field_name}: {exc}", code="invalid_phone_number") from None
