"""The Egress service of the fake LiveKit (`livekit.Egress` over Twirp, livekit-protocol's egress messages).

It checks what LiveKit's `pkg/service/egress.go` checks (the roomRecord grant; the room must exist to
start; only a starting or active egress can be stopped) and, when an egress is stopped, does what the
egress worker does at the end of a file output: it uploads the recorded Ogg to the request's S3 or GCS
target at its `filepath`, with the S3 upload's user metadata, and reports the file in `file_results`.
The S3 upload goes to the endpoint named in the request (the moto server); the GCS one to
`gcs_endpoint`, as the egress host's STORAGE_EMULATOR_HOST would direct it.

    fake.egress.recorded_audio = b"OggS..."     # what the next stopped egress uploads
    fake.egress.fail_uploads = "upload refused"  # the next stopped egress ends FAILED with this error
"""

from __future__ import annotations

import io
import json
import time
from typing import TYPE_CHECKING

import numpy as np
import soundfile
from livekit.protocol import egress as proto_egress

from tests.fakes.livekit import TwirpError

if TYPE_CHECKING:
    from tests.fakes.livekit import FakeLiveKit

_IN_PROGRESS = (proto_egress.EGRESS_STARTING, proto_egress.EGRESS_ACTIVE)
_ACTIVE_FOR_LISTING = (proto_egress.EGRESS_STARTING, proto_egress.EGRESS_ACTIVE, proto_egress.EGRESS_ENDING)


def ogg_audio(seconds: float = 0.5, rate: int = 16_000) -> bytes:
    """A real Ogg Vorbis file (a 220 Hz tone), like an audio-only room-composite egress writes."""
    t = np.arange(int(seconds * rate)) / rate
    buffer = io.BytesIO()
    soundfile.write(buffer, (np.sin(2 * np.pi * 220 * t) * 0.3).astype("float32"), rate, format="OGG", subtype="VORBIS")
    return buffer.getvalue()


class FakeEgress:
    def __init__(self, livekit: FakeLiveKit):
        self.livekit = livekit
        self.egresses: dict[str, proto_egress.EgressInfo] = {}
        self.recorded_audio = ogg_audio()
        self.gcs_endpoint: str | None = None
        self.fail_uploads: str | None = None

    def routes(self) -> dict:
        return {
            ("livekit.Egress", "StartRoomCompositeEgress"): (proto_egress.RoomCompositeEgressRequest, self._start),
            ("livekit.Egress", "ListEgress"): (proto_egress.ListEgressRequest, self._list),
            ("livekit.Egress", "StopEgress"): (proto_egress.StopEgressRequest, self._stop),
        }

    def reset(self) -> None:
        self.egresses.clear()
        self.recorded_audio = ogg_audio()
        self.gcs_endpoint = None
        self.fail_uploads = None

    def add(self, room: str, filepath: str, *, status: int = proto_egress.EGRESS_ACTIVE) -> proto_egress.EgressInfo:
        """An egress someone else started (another server, the dashboard), writing `filepath`."""
        request = proto_egress.RoomCompositeEgressRequest(
            room_name=room,
            audio_only=True,
            file_outputs=[
                proto_egress.EncodedFileOutput(file_type=proto_egress.EncodedFileType.OGG, filepath=filepath)
            ],
        )
        return self._record(request, status)

    # --- handlers ------------------------------------------------------------------------------

    def _start(self, req: proto_egress.RoomCompositeEgressRequest, claims: dict) -> proto_egress.EgressInfo:
        self.livekit._require_video(claims, "roomRecord")
        self.livekit._room(req.room_name)  # "requested room does not exist"
        outputs = list(req.file_outputs) + ([req.file] if req.HasField("file") else [])
        if not outputs and not req.stream_outputs and not req.segment_outputs:
            raise TwirpError("invalid_argument", "no outputs provided")
        for output in outputs:
            if output.file_type == proto_egress.EncodedFileType.OGG and not req.audio_only:
                raise TwirpError("invalid_argument", "ogg file type requires audio_only")  # video cannot go in Ogg
        info = self._record(req, proto_egress.EGRESS_STARTING)
        answer = proto_egress.EgressInfo()
        answer.CopyFrom(info)
        info.status = proto_egress.EGRESS_ACTIVE  # the egress worker joins the room right away
        self.livekit.rooms[req.room_name].active_recording = True
        return answer

    def _list(self, req: proto_egress.ListEgressRequest, claims: dict) -> proto_egress.ListEgressResponse:
        self.livekit._require_video(claims, "roomRecord")
        items = [
            info
            for info in self.egresses.values()
            if (not req.room_name or info.room_name == req.room_name)
            and (not req.egress_id or info.egress_id == req.egress_id)
            and (not req.active or info.status in _ACTIVE_FOR_LISTING)
        ]
        return proto_egress.ListEgressResponse(items=items)

    def _stop(self, req: proto_egress.StopEgressRequest, claims: dict) -> proto_egress.EgressInfo:
        self.livekit._require_video(claims, "roomRecord")
        info = self.egresses.get(req.egress_id)
        if info is None:
            raise TwirpError("not_found", "egress does not exist")
        if info.status not in _IN_PROGRESS:
            name = proto_egress.EgressStatus.Name(info.status)
            raise TwirpError("failed_precondition", f"egress with status {name} cannot be stopped")
        # LiveKit answers ENDING and finishes the upload afterwards; the fake uploads first, so that the
        # file is there as soon as a test has the answer.
        answer = proto_egress.EgressInfo()
        answer.CopyFrom(info)
        answer.status = proto_egress.EGRESS_ENDING
        self._finish(info)
        if info.room_name in self.livekit.rooms:
            self.livekit.rooms[info.room_name].active_recording = False
        return answer

    # --- the egress worker's end of file output ------------------------------------------------

    def _finish(self, info: proto_egress.EgressInfo) -> None:
        now = time.time_ns()
        info.ended_at = info.updated_at = now
        request = info.room_composite
        try:
            if self.fail_uploads:
                raise RuntimeError(self.fail_uploads)
            for output in list(request.file_outputs) + ([request.file] if request.HasField("file") else []):
                location = self._upload(output, self.recorded_audio)
                info.file_results.append(
                    proto_egress.FileInfo(
                        filename=output.filepath,
                        started_at=info.started_at,
                        ended_at=now,
                        duration=now - info.started_at,
                        size=len(self.recorded_audio),
                        location=location,
                    )
                )
        except Exception as exc:  # noqa: BLE001 - the egress reports any upload failure in the info
            info.status, info.error = proto_egress.EGRESS_FAILED, str(exc)
            return
        info.status = proto_egress.EGRESS_COMPLETE

    def _upload(self, output: proto_egress.EncodedFileOutput, data: bytes) -> str:
        if output.HasField("s3"):
            import boto3
            from botocore.config import Config

            s3 = output.s3
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=s3.endpoint or None,
                region_name=s3.region or None,
                aws_access_key_id=s3.access_key,
                aws_secret_access_key=s3.secret,
                config=Config(s3={"addressing_style": "path" if s3.force_path_style else "auto"}),
            )
            client.put_object(
                Bucket=s3.bucket, Key=output.filepath, Body=data, ContentType="audio/ogg", Metadata=dict(s3.metadata)
            )
            client.close()
            return f"{s3.endpoint}/{s3.bucket}/{output.filepath}"
        if output.HasField("gcp"):
            from google.cloud import storage
            from google.oauth2 import service_account

            gcp = output.gcp
            credentials = service_account.Credentials.from_service_account_info(
                json.loads(gcp.credentials), scopes=["https://www.googleapis.com/auth/devstorage.read_write"]
            )
            client = storage.Client(
                project="egress",
                credentials=credentials,
                client_options={"api_endpoint": self.gcs_endpoint} if self.gcs_endpoint else None,
            )
            client.bucket(gcp.bucket).blob(output.filepath).upload_from_string(data, content_type="audio/ogg")
            client.close()
            return f"gs://{gcp.bucket}/{output.filepath}"
        raise RuntimeError("no upload target: the egress would write on its own disk")

    def _record(self, request: proto_egress.RoomCompositeEgressRequest, status: int) -> proto_egress.EgressInfo:
        room = self.livekit.rooms.get(request.room_name)
        now = time.time_ns()
        info = proto_egress.EgressInfo(
            egress_id=self.livekit._id("EG_"),
            room_id=room.sid if room else "",
            room_name=request.room_name,
            source_type=proto_egress.EGRESS_SOURCE_TYPE_WEB,
            status=status,
            started_at=now,
            updated_at=now,
            room_composite=request,
        )
        self.egresses[info.egress_id] = info
        return info
