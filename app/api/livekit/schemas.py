from marshmallow import Schema, fields

from app.api.blueprint import RequestSchema, not_blank


class TokenRequestSchema(RequestSchema):
    room_name = fields.String(required=True, validate=not_blank, metadata={"example": "support-42"})
    participant_name = fields.String(required=True, validate=not_blank, metadata={"example": "Alex"})
    participant_identity = fields.String(required=True, validate=not_blank, metadata={"example": "alex-support"})


class TokenResponseSchema(Schema):
    token = fields.String(required=True, metadata={"description": "LiveKit JWT for the participant"})
    room_name = fields.String(required=True)
    participant_identity = fields.String(required=True)
    livekit_url = fields.String(required=True, metadata={"description": "LIVEKIT_PUBLIC_URL"})


class RoomSummarySchema(Schema):
    name = fields.String(required=True)
    num_participants = fields.Integer(required=True)
    creation_time = fields.Integer(required=True, metadata={"description": "Unix seconds"})


class RoomListSchema(Schema):
    rooms = fields.List(fields.Nested(RoomSummarySchema), required=True)


class EnumName(fields.String):
    """A LiveKit enum number, written as its name; UNKNOWN for a number not in `names`."""

    def __init__(self, names: dict[int, str], **kwargs):
        super().__init__(**kwargs)
        self.names = names

    def _serialize(self, value, attr, obj, **kwargs):
        return self.names.get(value, "UNKNOWN")


class ParticipantSchema(Schema):
    """Shapes LiveKit's ParticipantInfo."""

    sid = fields.String(required=True)
    identity = fields.String(required=True)
    name = fields.String(required=True)
    state = EnumName(
        {0: "JOINING", 1: "JOINED", 2: "ACTIVE", 3: "DISCONNECTED"},
        required=True,
        metadata={"example": "ACTIVE", "description": "JOINING, JOINED, ACTIVE, DISCONNECTED or UNKNOWN"},
    )
    kind = EnumName(
        {0: "STANDARD", 1: "INGRESS", 2: "EGRESS", 3: "SIP", 4: "AGENT"},
        required=True,
        metadata={"example": "STANDARD", "description": "STANDARD, INGRESS, EGRESS, SIP, AGENT or UNKNOWN"},
    )
    joined_at = fields.Integer(required=True, metadata={"description": "Unix seconds"})
    metadata = fields.String(required=True)
    attributes = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    is_publisher = fields.Boolean(required=True)


class RoomDetailsSchema(Schema):
    """Shapes RoomDetails: LiveKit's Room and its participants."""

    sid = fields.String(required=True, attribute="room.sid")
    name = fields.String(required=True, attribute="room.name")
    num_participants = fields.Integer(required=True, attribute="room.num_participants")
    max_participants = fields.Integer(required=True, attribute="room.max_participants")
    creation_time = fields.Integer(required=True, attribute="room.creation_time")
    metadata = fields.String(required=True, attribute="room.metadata", metadata={"example": '{"auth_id":"acme"}'})
    active_recording = fields.Boolean(required=True, attribute="room.active_recording")
    participants = fields.List(fields.Nested(ParticipantSchema), required=True)


class ParticipantRequestSchema(RequestSchema):
    room_name = fields.String(required=True, validate=not_blank, metadata={"example": "support-42"})
    participant_identity = fields.String(required=True, validate=not_blank, metadata={"example": "alex-support"})


class RemovedParticipantSchema(Schema):
    status = fields.String(required=True, metadata={"example": "removed"})
    room_name = fields.String(required=True)
    participant_identity = fields.String(required=True)


class MuteRequestSchema(ParticipantRequestSchema):
    track_sid = fields.String(required=True, validate=not_blank, metadata={"example": "TR_abc123"})
    muted = fields.Boolean(required=True, metadata={"example": True})


class MuteResponseSchema(Schema):
    room_name = fields.String(required=True)
    participant_identity = fields.String(required=True)
    track_sid = fields.String(required=True)
    muted = fields.Boolean(required=True, metadata={"description": "the track's state as LiveKit reports it"})


class WebhookReceivedSchema(Schema):
    status = fields.String(required=True, metadata={"example": "received"})
