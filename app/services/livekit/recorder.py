"""Recordings of a room, started and stopped through our API: a LiveKit room-composite egress, audio only,
written as Ogg into the recording store where `GET /recording/{stream_id}` finds it.

Upstream starts recordings only from its WebSocket sessions; this is the same egress (same file type,
same key `{RECORDING_PREFIX}/{stream_id}/audio.ogg`, same upload target), for REST-only deployments.
The recording belongs to the tenant that started it: its `auth_id` travels with an S3 upload as the
object's user metadata, which downloads already read; LiveKit's GCS upload cannot carry metadata, so
the GCS store keeps the owner beside the object (see RecordingStore.reserve)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote

from livekit.protocol import egress as proto_egress

from app.errors import ApiError, BadRequest, NotFound, ServiceUnavailable, UpstreamError
from app.services.livekit.errors import LiveKitError, LiveKitUnreachable
from app.services.livekit.rooms import TenantRooms
from app.services.recordings import (
    Recordings,
    StorageNotConfigured,
    StreamIdTaken,
    object_key,
    validate_stream_id,
)
from app.services.recordings.store import RECORDING_FILE_NAME
from app.settings import RecordingSettings

_STATUSES = {
    proto_egress.EGRESS_STARTING: "starting",
    proto_egress.EGRESS_ACTIVE: "active",
    proto_egress.EGRESS_ENDING: "ending",
    proto_egress.EGRESS_COMPLETE: "complete",
    proto_egress.EGRESS_FAILED: "failed",
    proto_egress.EGRESS_ABORTED: "aborted",
    proto_egress.EGRESS_LIMIT_REACHED: "limit_reached",
}
_IN_PROGRESS = {proto_egress.EGRESS_STARTING, proto_egress.EGRESS_ACTIVE}
_NANOSECONDS = 1_000_000_000


class RecordingConflict(ApiError):
    status, code = 409, "recording_conflict"


@dataclass(frozen=True)
class RoomRecording:
    room_name: str
    stream_id: str
    egress_id: str
    status: str  # starting, active, ending, complete, failed, aborted or limit_reached
    started_at: int | None = None  # Unix seconds
    ended_at: int | None = None
    error: str | None = None

    @property
    def recording_url(self) -> str:
        return f"/recording/{quote(self.stream_id, safe='')}"


class RoomRecorder:
    def __init__(self, rooms: TenantRooms, settings: RecordingSettings, recordings: Recordings):
        self.rooms = rooms
        self.settings = settings
        self.recordings = recordings

    def start(self, tenant: str | None, room_name: str, stream_id: str | None = None) -> RoomRecording:
        stream_id = validate_stream_id(stream_id) if stream_id is not None else str(uuid.uuid4())
        self._require_egress_store()
        self._require_room(tenant, room_name)
        if self._current(room_name, in_progress=True) is not None:
            raise RecordingConflict(f"Room '{room_name}' is already being recorded", code="recording_in_progress")
        self._require_unused(stream_id)
        self.recordings.reserve(stream_id, tenant)
        request = proto_egress.RoomCompositeEgressRequest(
            room_name=room_name, audio_only=True, file_outputs=[self._file_output(stream_id, tenant)]
        )
        try:
            info = self.rooms.client.start_room_composite_egress(request)
        except LiveKitError as exc:
            if not (isinstance(exc, LiveKitUnreachable) and exc.timed_out):  # else it may be recording
                self.recordings.release(stream_id)
            if exc.not_found:
                raise _room_not_found(tenant, room_name) from None
            raise UpstreamError(f"Failed to start recording: {exc.message}", code="recording_failed") from None
        return self._recording(info, stream_id)

    def status(self, tenant: str | None, room_name: str) -> RoomRecording:
        self._require_room(tenant, room_name)
        current = self._current(room_name)
        if current is None:
            raise NotFound(f"Room '{room_name}' has no recording", code="recording_not_found")
        return current

    def stop(self, tenant: str | None, room_name: str) -> RoomRecording:
        self._require_room(tenant, room_name)
        current = self._current(room_name, in_progress=True)
        if current is None:
            raise NotFound(f"Room '{room_name}' is not being recorded", code="recording_not_found")
        try:
            info = self.rooms.client.stop_egress(current.egress_id)
        except LiveKitError as exc:
            if exc.not_found or exc.twirp_code == "failed_precondition":  # it ended on its own meanwhile
                raise NotFound(f"Room '{room_name}' is not being recorded", code="recording_not_found") from None
            raise UpstreamError(f"Failed to stop recording: {exc.message}", code="recording_failed") from None
        return self._recording(info, current.stream_id)

    # --- helpers -------------------------------------------------------------------------------

    def _require_egress_store(self) -> None:
        if self.settings.backend is None:
            raise StorageNotConfigured()
        if self.settings.backend not in ("s3", "gcs"):
            # LiveKit's egress uploads to object stores; it cannot write into this server's directory.
            raise ServiceUnavailable(
                "Starting recordings needs an object store: set RECORDING_BACKEND to s3 or gcs",
                code="recording_storage_unsupported",
            )

    def _require_room(self, tenant: str | None, room_name: str) -> None:
        if not room_name.strip():
            raise BadRequest("Room name cannot be empty")
        self.rooms.require_access(tenant, room_name, _room_not_found(tenant, room_name))

    def _require_unused(self, stream_id: str) -> None:
        """A stream id names one recording for good: starting another under it would overwrite it."""
        if self.recordings.exists(stream_id):
            raise StreamIdTaken(f"A recording with the stream_id '{stream_id}' already exists")

    def _current(self, room_name: str, *, in_progress: bool = False) -> RoomRecording | None:
        """The room's latest recording of ours (the newest first among those in progress)."""
        try:
            egresses = self.rooms.client.list_egress(room_name, active=in_progress)
        except LiveKitError as exc:
            raise UpstreamError(
                f"Failed to read the room's recordings: {exc.message}", code="recording_failed"
            ) from None
        ours = [
            (info, stream_id)
            for info in egresses
            if (stream_id := self._stream_id_of(info)) is not None and (not in_progress or info.status in _IN_PROGRESS)
        ]
        if not ours:
            return None
        info, stream_id = max(
            ours, key=lambda pair: (pair[0].status in _IN_PROGRESS, pair[0].started_at, pair[0].updated_at)
        )
        return self._recording(info, stream_id)

    def _stream_id_of(self, info: proto_egress.EgressInfo) -> str | None:
        """The stream id of a room-composite egress writing `{prefix}/{stream_id}/audio.ogg`, else None."""
        if not info.HasField("room_composite"):
            return None
        request = info.room_composite
        outputs = list(request.file_outputs) or ([request.file] if request.HasField("file") else [])
        lead, tail = f"{self.settings.prefix}/" if self.settings.prefix else "", f"/{RECORDING_FILE_NAME}"
        for output in outputs:
            path = output.filepath
            stream_id = path[len(lead) : -len(tail)] if path.startswith(lead) and path.endswith(tail) else ""
            if stream_id and "/" not in stream_id:
                return stream_id
        return None

    def _file_output(self, stream_id: str, tenant: str | None) -> proto_egress.EncodedFileOutput:
        settings = self.settings
        output = proto_egress.EncodedFileOutput(
            file_type=proto_egress.EncodedFileType.OGG,
            filepath=object_key(settings.prefix, stream_id),
            disable_manifest=False,
        )
        if settings.backend == "s3":
            output.s3.CopyFrom(
                proto_egress.S3Upload(
                    access_key=settings.s3_access_key,
                    secret=settings.s3_secret_key,
                    region=settings.s3_region,
                    endpoint=settings.s3_endpoint or "",
                    bucket=settings.s3_bucket,
                    # path-style whenever our downloads use it, so both sides address the bucket alike
                    force_path_style=settings.s3_force_path_style or bool(settings.s3_endpoint),
                    metadata={"auth_id": tenant} if tenant else {},
                )
            )
        else:
            output.gcp.CopyFrom(
                proto_egress.GCPUpload(credentials=settings.gcs_credentials_json, bucket=settings.gcs_bucket)
            )
        return output

    @staticmethod
    def _recording(info: proto_egress.EgressInfo, stream_id: str) -> RoomRecording:
        return RoomRecording(
            room_name=info.room_name,
            stream_id=stream_id,
            egress_id=info.egress_id,
            status=_STATUSES.get(info.status, "unknown"),
            started_at=info.started_at // _NANOSECONDS or None,
            ended_at=info.ended_at // _NANOSECONDS or None,
            error=info.error or None,
        )


def _room_not_found(tenant: str | None, room_name: str) -> NotFound:
    return NotFound(
        f"Room '{room_name}' not found or not accessible" if tenant is not None else f"Room '{room_name}' not found",
        code="room_not_found",
    )
