from flask import request

from app.api.blueprint import Blueprint
from app.api.livekit.schemas import (
    MuteRequestSchema,
    MuteResponseSchema,
    ParticipantRequestSchema,
    RemovedParticipantSchema,
    RoomDetailsSchema,
    RoomListSchema,
    TokenRequestSchema,
    TokenResponseSchema,
    WebhookReceivedSchema,
)
from app.extensions import ErrorSchema, services
from app.security import current_tenant, public

blp = Blueprint("livekit", __name__, description="LiveKit participant tokens and room management")


@blp.route("/livekit/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenResponseSchema)
@blp.alt_response(400, schema=ErrorSchema, description="A field is missing or empty")
@blp.alt_response(403, schema=ErrorSchema, description="The room belongs to another tenant (`room_access_denied`)")
@blp.alt_response(500, schema=ErrorSchema, description="LiveKit not configured (`livekit_not_configured`) or failing")
def issue_token(body):
    """Mint a participant token for a room.

    With a tenant, the room is created (or an unowned one claimed) with `metadata.auth_id` = the tenant
    before the token is minted."""
    return services().livekit.rooms.issue_token(
        current_tenant(), body["room_name"], body["participant_name"], body["participant_identity"]
    )


@blp.route("/livekit/rooms", methods=["GET"])
@blp.response(200, RoomListSchema)
@blp.alt_response(500, schema=ErrorSchema, description="LiveKit not configured or failing")
def list_rooms():
    """The caller's rooms (every room when auth is off)."""
    return {"rooms": services().livekit.rooms.list_rooms(current_tenant())}


@blp.route("/livekit/rooms/<path:room_name>", methods=["GET"])
@blp.response(200, RoomDetailsSchema)
@blp.alt_response(400, schema=ErrorSchema, description="Blank room name")
@blp.alt_response(404, schema=ErrorSchema, description="No such room, or another tenant's (`room_not_found`)")
@blp.alt_response(500, schema=ErrorSchema, description="LiveKit not configured or failing")
def room_details(room_name):
    """One room with its participants.

    Room names may contain `/` (sent as `%2F`)."""
    return services().livekit.rooms.room_details(current_tenant(), room_name)


@blp.route("/livekit/participant", methods=["DELETE"])
@blp.arguments(ParticipantRequestSchema)
@blp.response(200, RemovedParticipantSchema)
@blp.alt_response(400, schema=ErrorSchema, description="A field is missing or empty")
@blp.alt_response(
    404, schema=ErrorSchema, description="Room not accessible or participant absent (`participant_not_found`)"
)
@blp.alt_response(500, schema=ErrorSchema, description="LiveKit not configured or removal failed (`removal_failed`)")
def remove_participant(body):
    """Disconnect a participant (their token stays valid until it expires)."""
    return services().livekit.rooms.remove_participant(
        current_tenant(), body["room_name"], body["participant_identity"]
    )


@blp.route("/livekit/participant/mute", methods=["POST"])
@blp.arguments(MuteRequestSchema)
@blp.response(200, MuteResponseSchema)
@blp.alt_response(400, schema=ErrorSchema, description="A field is missing or empty")
@blp.alt_response(
    404, schema=ErrorSchema, description="Room not accessible, or participant or track absent (`participant_not_found`)"
)
@blp.alt_response(500, schema=ErrorSchema, description="LiveKit not configured or mute failed (`mute_failed`)")
def mute_track(body):
    """Mute or unmute a participant's published track."""
    return services().livekit.rooms.mute_track(
        current_tenant(), body["room_name"], body["participant_identity"], body["track_sid"], body["muted"]
    )


@blp.route("/livekit/webhook", methods=["POST"])
@blp.doc(
    security=[],
    requestBody={
        "required": True,
        "description": "LiveKit's event, signed in `Authorization` (a JWT carrying the body's sha256)",
        "content": {"application/webhook+json": {"schema": {"type": "object"}}},
    },
)
@blp.response(200, WebhookReceivedSchema)
@blp.alt_response(400, schema=ErrorSchema, description="Signed body is not a LiveKit event")
@blp.alt_response(
    401, schema=ErrorSchema, description="Unsigned, wrongly signed or altered (`invalid_webhook_signature`)"
)
@blp.alt_response(503, schema=ErrorSchema, description="LiveKit credentials not configured")
@public
def livekit_webhook():
    """Receive LiveKit's event webhook, verified by its signature (no API token).

    A SIP participant joining is forwarded, signed, to the SIP hook of its host, in the background; a
    finished room frees its name."""
    app_services = services()
    event = app_services.livekit.webhooks.verify(request.get_data(cache=True), request.headers.get("Authorization"))
    app_services.livekit.rooms.observe(event)
    app_services.sip.forwarder.handle(event)
    return {"status": "received"}
