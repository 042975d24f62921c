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


class ParticipantSchema(Schema):
    sid = fields.String(required=True)
    identity = fields.String(required=True)
    name = fields.String(required=True)
    state = fields.String(required=True, metadata={"example": "ACTIVE",
                                                   "description": "JOINING, JOINED, ACTIVE, DISCONNECTED or UNKNOWN"})
    kind = fields.String(required=True, metadata={"example": "STANDARD",
                                                  "description": "STANDARD, INGRESS, EGRESS, SIP, AGENT or UNKNOWN"})
    joined_at = fields.Integer(required=True, metadata={"description": "Unix seconds"})
    metadata = fields.String(required=True)
    attributes = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    is_publisher = fields.Boolean(required=True)


class RoomDetailsSchema(Schema):
    sid = fields.String(required=True)
    name = fields.String(required=True)
    num_participants = fields.Integer(required=True)
    max_participants = fields.Integer(required=True)
    creation_time = fields.Integer(required=True)
    metadata = fields.String(required=True, metadata={"example": '{"auth_id":"acme"}'})
    active_recording = fields.Boolean(required=True)
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
