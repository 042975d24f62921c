"""Participant tokens for joining a LiveKit room, with the grants the upstream server gives."""
from __future__ import annotations

from livekit.api import AccessToken, VideoGrants

from app.settings import LiveKitSettings


def participant_token(settings: LiveKitSettings, room: str, identity: str, name: str) -> str:
    """An HS256 JWT signed with LIVEKIT_API_SECRET, valid for livekit-api's default 6 hours (as upstream)."""
    grants = VideoGrants(
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
    return (AccessToken(settings.api_key, settings.api_secret)
            .with_identity(identity).with_name(name).with_grants(grants).to_jwt())
