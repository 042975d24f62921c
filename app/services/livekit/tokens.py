"""Participant tokens for joining a LiveKit room.

By default a token can only join the named room and publish, subscribe and send data there. Upstream
also grants roomList, roomCreate and roomRecord, which let any participant list (and record) every
tenant's rooms on LiveKit directly; LIVEKIT_TOKEN_UPSTREAM_GRANTS=true restores those grants for
clients that rely on them."""

from __future__ import annotations

from livekit.api import AccessToken, VideoGrants

from app.settings import LiveKitSettings


def participant_grants(settings: LiveKitSettings, room: str) -> VideoGrants:
    if settings.upstream_token_grants:
        return VideoGrants(
            room=room,
            room_join=True,
            room_admin=False,
            room_record=True,
            room_list=True,
            room_create=True,
            can_publish=True,
            can_subscribe=True,
            can_publish_data=True,
            can_update_own_metadata=True,
        )
    return VideoGrants(room=room, room_join=True, can_publish=True, can_subscribe=True, can_publish_data=True)


def participant_token(settings: LiveKitSettings, room: str, identity: str, name: str) -> str:
    """An HS256 JWT signed with LIVEKIT_API_SECRET, valid for livekit-api's default 6 hours (as upstream)."""
    return (
        AccessToken(settings.api_key, settings.api_secret)
        .with_identity(identity)
        .with_name(name)
        .with_grants(participant_grants(settings, room))
        .to_jwt()
    )
