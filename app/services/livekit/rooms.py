"""Tenant-owned LiveKit rooms: tokens, listing, details and moderation.

A room belongs to the tenant named by its metadata `auth_id` (see `metadata`). With a tenant, every
operation sees only that tenant's rooms; another tenant's room answers exactly like a missing one
(masked 404), except for tokens, where the conflict is a 403 as upstream. Without a tenant (auth off)
nothing is isolated and nothing is written."""

from __future__ import annotations

from dataclasses import dataclass, field

from livekit.protocol import models
from livekit.protocol.webhook import WebhookEvent

from app.errors import BadRequest, Forbidden, NotFound, UpstreamError
from app.services.livekit.client import LiveKitClient
from app.services.livekit.errors import LiveKitError, LiveKitNotConfigured
from app.services.livekit.metadata import MetadataNotAnObject, OwnedByAnotherTenant, owner_of, with_owner
from app.services.livekit.ownership import RoomOwnership
from app.services.livekit.tokens import participant_token
from app.settings import LiveKitSettings

_MAX_PARTICIPANTS = 3  # what upstream creates rooms with


@dataclass(frozen=True)
class ParticipantToken:
    token: str = field(repr=False)
    room_name: str
    participant_identity: str
    livekit_url: str


@dataclass(frozen=True)
class RoomDetails:
    room: models.Room
    participants: list[models.ParticipantInfo]


@dataclass(frozen=True)
class RemovedParticipant:
    room_name: str
    participant_identity: str
    status: str = "removed"


@dataclass(frozen=True)
class MutedTrack:
    room_name: str
    participant_identity: str
    track_sid: str
    muted: bool  # LiveKit's answer, not the request: the track's state now


class TenantRooms:
    def __init__(self, settings: LiveKitSettings, client: LiveKitClient | None, ownership: RoomOwnership):
        self.settings = settings
        self._livekit = client
        self.ownership = ownership

    @property
    def client(self) -> LiveKitClient:
        if self._livekit is None:
            raise LiveKitNotConfigured()
        return self._livekit

    # --- ownership -----------------------------------------------------------------------------

    def claim(self, tenant: str, room_name: str) -> models.Room:
        """Make `tenant` the owner of the room, creating it when missing; an unowned room is claimed.

        The database decides between concurrent claimants (see `ownership`); the winner then writes
        `auth_id` into the room's metadata. Raises OwnedByAnotherTenant, MetadataNotAnObject,
        OwnershipStoreFailed or LiveKitError."""
        room = self.client.find_room(room_name)
        # Checked before the database is asked: a room another tenant owns by its metadata alone (claimed
        # before ownership was recorded here) stays theirs, and unmergeable metadata claims nothing.
        metadata = with_owner(room.metadata, tenant) if room is not None else with_owner("", tenant)
        owner, recorded_sid = self.ownership.claim(room_name, tenant, room.sid if room is not None else "")
        if owner != tenant:
            raise OwnedByAnotherTenant(owner)
        if room is not None and recorded_sid != room.sid:  # LiveKit runs a newer instance of the room
            self.ownership.remember_instance(room_name, tenant, room.sid)
        if room is None:
            # LiveKit's CreateRoom returns an existing room unchanged (a participant may have created it
            # meanwhile): its metadata is merged below like any other.
            room = self.client.create_room(room_name, max_participants=_MAX_PARTICIPANTS, metadata=metadata)
            self.ownership.remember_instance(room_name, tenant, room.sid)
            metadata = with_owner(room.metadata, tenant)
        if owner_of(room.metadata) != tenant:
            room = self.client.update_room_metadata(room_name, metadata)
        return room

    def observe(self, event: WebhookEvent) -> None:
        """Follow LiveKit's room lifecycle: a finished room instance frees its name for any tenant."""
        if event.event == "room_finished" and event.room.name:
            self.ownership.release(event.room.name, event.room.sid)

    def find_room(self, room_name: str, *, failure_code: str = "livekit_error") -> models.Room | None:
        try:
            return self.client.find_room(room_name)
        except LiveKitError as exc:
            raise UpstreamError(f"Failed to verify room access: {exc.message}", code=failure_code) from None

    @staticmethod
    def visible_to(tenant: str | None, room: models.Room | None) -> bool:
        return room is not None and (tenant is None or owner_of(room.metadata) == tenant)

    def require_access(
        self, tenant: str | None, room_name: str, denied: Exception, *, failure_code: str = "livekit_error"
    ) -> None:
        """Raise `denied` unless the tenant owns the room (no check without a tenant)."""
        if tenant is not None and not self.visible_to(tenant, self.find_room(room_name, failure_code=failure_code)):
            raise denied

    # --- endpoints -----------------------------------------------------------------------------

    def issue_token(
        self, tenant: str | None, room_name: str, participant_name: str, participant_identity: str
    ) -> ParticipantToken:
        if self._livekit is None:  # even when no LiveKit call is needed: the token could not be signed
            raise LiveKitNotConfigured()
        if tenant is not None:
            try:
                self.claim(tenant, room_name)
            except OwnedByAnotherTenant:
                raise Forbidden(
                    "Access denied: room belongs to a different tenant", code="room_access_denied"
                ) from None
            except MetadataNotAnObject:
                raise UpstreamError(
                    "Failed to prepare room: its metadata is not a JSON object", code="room_metadata_invalid"
                ) from None
            except LiveKitError as exc:
                raise UpstreamError(f"Failed to prepare room: {exc.message}", code=exc.code) from None
        token = participant_token(self.settings, room_name, participant_identity, participant_name)
        return ParticipantToken(token, room_name, participant_identity, self.settings.public_url)

    def list_rooms(self, tenant: str | None) -> list[models.Room]:
        try:
            rooms = self.client.list_rooms()
        except LiveKitError as exc:
            raise UpstreamError(f"Failed to list rooms: {exc.message}", code=exc.code) from None
        return [room for room in rooms if self.visible_to(tenant, room)]

    def room_details(self, tenant: str | None, room_name: str) -> RoomDetails:
        if not room_name.strip():
            raise BadRequest("Room name cannot be empty")
        hidden = NotFound(
            f"Room '{room_name}' not found or not accessible"
            if tenant is not None
            else f"Room '{room_name}' not found",
            code="room_not_found",
        )
        try:
            room = self.client.find_room(room_name)
            if room is None or not self.visible_to(tenant, room):
                raise hidden
            participants = self.client.list_participants(room_name)
        except LiveKitError as exc:
            if exc.not_found:
                raise hidden from None
            raise UpstreamError(f"Failed to access room: {exc.message}", code=exc.code) from None
        return RoomDetails(room, list(participants))

    def remove_participant(self, tenant: str | None, room_name: str, identity: str) -> RemovedParticipant:
        masked = NotFound(f"Room '{room_name}' not found or not accessible", code="participant_not_found")
        missing = NotFound(f"Participant '{identity}' not found in room '{room_name}'", code="participant_not_found")
        self.require_access(tenant, room_name, masked)
        try:
            if identity not in {p.identity for p in self.client.list_participants(room_name)}:
                raise missing
            self.client.remove_participant(room_name, identity)
        except LiveKitError as exc:
            if exc.not_found:
                raise missing from None
            raise UpstreamError(f"Failed to remove participant: {exc.message}", code="removal_failed") from None
        return RemovedParticipant(room_name, identity)

    def mute_track(self, tenant: str | None, room_name: str, identity: str, track_sid: str, muted: bool) -> MutedTrack:
        masked = NotFound(f"Room '{room_name}' not found or not accessible", code="participant_not_found")
        self.require_access(tenant, room_name, masked)
        try:
            track = self.client.mute_published_track(room_name, identity, track_sid, muted)
        except LiveKitError as exc:
            if exc.not_found:
                raise NotFound(
                    f"Track '{track_sid}' or participant '{identity}' not found in room '{room_name}'",
                    code="participant_not_found",
                ) from None
            raise UpstreamError(f"Failed to mute track: {exc.message}", code="mute_failed") from None
        return MutedTrack(room_name, identity, track_sid, track.muted)
