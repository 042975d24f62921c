from marshmallow import Schema, fields

from app.api.blueprint import RequestSchema
from app.services.recordings import MAX_STREAM_ID_BYTES, STREAM_ID_PATTERN


class StartRecordingSchema(RequestSchema):
    stream_id = fields.String(
        metadata={
            "description": "Names the recording (`GET /recording/{stream_id}`); a new UUID when absent. At most 256 "
            "bytes, without '/', '\\\\', '..', '%' or control characters, and not already used",
            "example": "550e8400-e29b-41d4-a716-446655440000",
            "maxLength": MAX_STREAM_ID_BYTES,
            "pattern": STREAM_ID_PATTERN,
        }
    )


class RoomRecordingSchema(Schema):
    room_name = fields.String(required=True)
    stream_id = fields.String(required=True)
    egress_id = fields.String(required=True, metadata={"description": "LiveKit's egress id", "example": "EG_abc123"})
    status = fields.String(
        required=True,
        metadata={
            "description": "starting, active, ending, complete, failed, aborted or limit_reached "
            "(LiveKit's egress status)",
            "example": "active",
        },
    )
    started_at = fields.Integer(required=True, allow_none=True, metadata={"description": "Unix seconds"})
    ended_at = fields.Integer(required=True, allow_none=True, metadata={"description": "Unix seconds"})
    error = fields.String(required=True, allow_none=True, metadata={"description": "Why the recording failed"})
    recording_url = fields.String(
        required=True,
        metadata={
            "description": "Where the recording is downloaded once complete",
            "example": "/recording/550e8400-e29b",
        },
    )
