from app.api.blueprint import Blueprint
from app.api.room_recording.schemas import RoomRecordingSchema, StartRecordingSchema
from app.extensions import ErrorSchema, services
from app.security import current_tenant

blp = Blueprint("room_recording", __name__, description="Recording a LiveKit room into the recording storage")

_ROOM_NOT_FOUND = "No such room, or another tenant's (`room_not_found`)"


def _recorder():
    return services().room_recorder


@blp.route("/livekit/rooms/<path:room_name>/recording", methods=["POST"])
@blp.arguments(StartRecordingSchema, required=False)
@blp.response(200, RoomRecordingSchema)
@blp.alt_response(400, schema=ErrorSchema, description="Invalid stream_id (`invalid_stream_id`)")
@blp.alt_response(404, schema=ErrorSchema, description=_ROOM_NOT_FOUND)
@blp.alt_response(
    409,
    schema=ErrorSchema,
    description="The room is already being recorded "
    "(`recording_in_progress`), or the stream_id is taken "
    "(`recording_exists`)",
)
@blp.alt_response(
    500, schema=ErrorSchema, description="LiveKit not configured, or the egress failed to start (`recording_failed`)"
)
@blp.alt_response(
    503,
    schema=ErrorSchema,
    description="No recording storage (`storage_not_configured`), a local "
    "directory LiveKit cannot upload to "
    "(`recording_storage_unsupported`), or storage unavailable",
)
def start_recording(body, room_name):
    """Start recording the room.

    A LiveKit room-composite egress, audio only, as Ogg, uploaded to the recording storage (S3 or GCS)
    at `{RECORDING_PREFIX}/{stream_id}/audio.ogg`. With a tenant, the recording belongs to it
    (`GET /recording/{stream_id}` serves it to that tenant only). Stop it with `DELETE`; the file is
    complete once the status is `complete`."""
    return _recorder().start(current_tenant(), room_name, body.get("stream_id"))


@blp.route("/livekit/rooms/<path:room_name>/recording", methods=["GET"])
@blp.response(200, RoomRecordingSchema)
@blp.alt_response(404, schema=ErrorSchema, description=f"{_ROOM_NOT_FOUND}, or no recording (`recording_not_found`)")
@blp.alt_response(500, schema=ErrorSchema, description="LiveKit not configured or failing")
def recording_status(room_name):
    """The room's recording: the one in progress, else the latest."""
    return _recorder().status(current_tenant(), room_name)


@blp.route("/livekit/rooms/<path:room_name>/recording", methods=["DELETE"])
@blp.response(200, RoomRecordingSchema)
@blp.alt_response(
    404, schema=ErrorSchema, description=f"{_ROOM_NOT_FOUND}, or nothing being recorded (`recording_not_found`)"
)
@blp.alt_response(500, schema=ErrorSchema, description="LiveKit not configured or failing")
def stop_recording(room_name):
    """Stop recording the room.

    LiveKit then finishes the upload: the status moves to `ending`, then `complete`."""
    return _recorder().stop(current_tenant(), room_name)
