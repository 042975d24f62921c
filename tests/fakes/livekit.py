"""A fake LiveKit server API: real HTTP on 127.0.0.1, speaking Twirp in protobuf and JSON like LiveKit.

It checks what the real server checks (from livekit/livekit `pkg/service/auth.go` and the generated Twirp
code): the bearer JWT's HS256 signature, issuer and expiry (401 plain text otherwise), the grants each
method needs (401 `unauthenticated` "permissions denied"), the room of room-admin grants, and SIP request
validation. Rooms, participants, SIP calls and transfers live in memory. Errors are Twirp `{code, msg}`.

    fake = FakeLiveKit(KEY, SECRET); server = FakeServer(fake.app).start()
    fake.add_room("support-42", metadata='{"auth_id":"acme"}'); fake.add_participant("support-42", "alex")
    fake.fail("ListRooms", "internal", "database is down")     # every ListRooms answers this error
    fake.delay("TransferSIPParticipant", 3.0)                  # answer after 3 s
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import jwt
from flask import Flask, Response, request
from google.protobuf import json_format
from livekit.api import AccessToken
from livekit.protocol import models
from livekit.protocol import room as proto_room
from livekit.protocol import sip as proto_sip

from tests.fakes.livekit_sip import FakeSipProvisioning

_TWIRP_STATUS = {
    "canceled": 408,
    "unknown": 500,
    "invalid_argument": 400,
    "malformed": 400,
    "deadline_exceeded": 408,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "unauthenticated": 401,
    "resource_exhausted": 429,
    "failed_precondition": 412,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "data_loss": 500,
}


@dataclass
class TwirpFailure:
    code: str
    msg: str
    meta: dict = field(default_factory=dict)


class TwirpError(Exception):
    def __init__(self, code: str, msg: str, meta: dict | None = None):
        super().__init__(msg)
        self.code, self.msg, self.meta = code, msg, meta or {}


@dataclass
class Call:
    """One request the fake answered (or refused for its grants)."""

    method: str
    content_type: str
    claims: dict
    request: dict  # the request message as protojson with proto field names


# Test credentials; secrets are >= 32 bytes so PyJWT raises no InsecureKeyLengthWarning.
TEST_API_KEY = "APIsaynatests"
TEST_API_SECRET = "livekit-test-secret-that-is-32-bytes-or-more"


def sign_webhook(body: bytes, api_key: str, api_secret: str, *, ttl_seconds: int = 300) -> str:
    """The Authorization value LiveKit puts on a webhook: a bare JWT carrying base64(sha256(body))."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return AccessToken(api_key, api_secret).with_sha256(digest).with_ttl(timedelta(seconds=ttl_seconds)).to_jwt()


class FakeLiveKit:
    def __init__(self, api_key: str, api_secret: str):
        self.api_key = api_key
        self.api_secret = api_secret
        self.rooms: dict[str, models.Room] = {}
        self.participants: dict[str, dict[str, models.ParticipantInfo]] = {}
        self.sip_calls: list[proto_sip.CreateSIPParticipantRequest] = []
        self.transfers: list[proto_sip.TransferSIPParticipantRequest] = []
        self.calls: list[Call] = []
        self._failures: dict[str, TwirpFailure] = {}
        self._delays: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.app = Flask("fake-livekit")
        self.app.add_url_rule(
            "/twirp/<service>/<method>", "twirp", self._twirp, methods=["GET", "POST", "PUT", "DELETE"]
        )
        self._routes = {
            ("livekit.RoomService", "CreateRoom"): (proto_room.CreateRoomRequest, self._create_room),
            ("livekit.RoomService", "ListRooms"): (proto_room.ListRoomsRequest, self._list_rooms),
            ("livekit.RoomService", "DeleteRoom"): (proto_room.DeleteRoomRequest, self._delete_room),
            ("livekit.RoomService", "UpdateRoomMetadata"): (
                proto_room.UpdateRoomMetadataRequest,
                self._update_metadata,
            ),
            ("livekit.RoomService", "ListParticipants"): (proto_room.ListParticipantsRequest, self._list_participants),
            ("livekit.RoomService", "GetParticipant"): (proto_room.RoomParticipantIdentity, self._get_participant),
            ("livekit.RoomService", "RemoveParticipant"): (
                proto_room.RoomParticipantIdentity,
                self._remove_participant,
            ),
            ("livekit.RoomService", "MutePublishedTrack"): (proto_room.MuteRoomTrackRequest, self._mute_track),
            ("livekit.SIP", "CreateSIPParticipant"): (
                proto_sip.CreateSIPParticipantRequest,
                self._create_sip_participant,
            ),
            ("livekit.SIP", "TransferSIPParticipant"): (proto_sip.TransferSIPParticipantRequest, self._transfer),
        }
        from tests.fakes.livekit_egress import FakeEgress  # the Egress service lives in its own module

        self.egress = FakeEgress(self)
        self._routes.update(self.egress.routes())
        self.sip_provisioning = FakeSipProvisioning(self._id, TwirpError)  # inbound trunks and dispatch rules
        self._routes.update(self.sip_provisioning.routes())

    # --- test controls -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every room, call, failure and delay (one server can then serve many tests)."""
        with self._lock:
            self.rooms.clear()
            self.participants.clear()
            self.sip_calls.clear()
            self.transfers.clear()
            self.calls.clear()
            self._failures.clear()
            self._delays.clear()
            self.egress.reset()
            self.sip_provisioning.reset()

    def add_room(
        self, name: str, metadata: str = "", *, max_participants: int = 0, creation_time: int | None = None
    ) -> models.Room:
        with self._lock:
            created = creation_time or int(time.time())
            room = models.Room(
                sid=self._id("RM_"),
                name=name,
                metadata=metadata,
                max_participants=max_participants,
                creation_time=created,
                creation_time_ms=created * 1000,
            )
            self.rooms[name] = room
            self.participants.setdefault(name, {})
            return room

    def add_participant(
        self,
        room: str,
        identity: str,
        *,
        name: str = "",
        kind: str = "STANDARD",
        attributes: dict[str, str] | None = None,
        tracks: tuple[str, ...] = (),
    ) -> models.ParticipantInfo:
        with self._lock:
            if room not in self.rooms:
                self.add_room(room)
            info = models.ParticipantInfo(
                sid=self._id("PA_"),
                identity=identity,
                name=name,
                state=models.ParticipantInfo.State.ACTIVE,
                kind=models.ParticipantInfo.Kind.Value(kind),
                joined_at=int(time.time()),
                attributes=attributes or {},
                is_publisher=bool(tracks),
                tracks=[models.TrackInfo(sid=sid, type=models.TrackType.AUDIO, name="microphone") for sid in tracks],
            )
            self.participants[room][identity] = info
            self._count(room)
            return info

    def fail(self, method: str, code: str, msg: str, **meta: str) -> None:
        """Answer every later `method` call with this Twirp error."""
        self._failures[method] = TwirpFailure(code, msg, dict(meta))

    def recover(self, method: str) -> None:
        """Stop failing `method` (see `fail`)."""
        self._failures.pop(method, None)

    def delay(self, method: str, seconds: float) -> None:
        self._delays[method] = seconds

    def metadata_of(self, room: str) -> dict:
        return json.loads(self.rooms[room].metadata or "{}")

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    # --- Twirp transport -----------------------------------------------------------------------

    def _twirp(self, service: str, method: str):
        if request.method != "POST":
            return _error("bad_route", f"unsupported method {request.method} (only POST is allowed)")
        route = self._routes.get((service, method))
        if route is None:
            return _error("bad_route", f'no handler for path "{request.path}"')
        claims = self._authenticate()
        if isinstance(claims, Response):
            return claims
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        request_class, handler = route
        try:
            if content_type == "application/protobuf":
                message = request_class.FromString(request.get_data())
            elif content_type == "application/json":
                message = json_format.Parse(request.get_data() or b"{}", request_class(), ignore_unknown_fields=True)
            else:
                return _error("bad_route", f'unexpected Content-Type: "{content_type}"')
        except Exception:  # noqa: BLE001 - any decoding failure is Twirp's "malformed"
            return _error("malformed", "the request could not be decoded")
        self.calls.append(
            Call(method, content_type, claims, json_format.MessageToDict(message, preserving_proto_field_name=True))
        )
        if method in self._delays:
            time.sleep(self._delays[method])
        try:
            if method in self._failures:
                failure = self._failures[method]
                raise TwirpError(failure.code, failure.msg, failure.meta)
            with self._lock:
                answer = handler(message, claims)
        except TwirpError as exc:
            return _error(exc.code, exc.msg, exc.meta)
        if content_type == "application/protobuf":
            return Response(answer.SerializeToString(), content_type="application/protobuf")
        # LiveKit's Twirp JSON: proto field names, unpopulated fields included, int64 as strings.
        return Response(
            json_format.MessageToJson(
                answer, preserving_proto_field_name=True, always_print_fields_with_no_presence=True, indent=None
            ),
            content_type="application/json",
        )

    def _authenticate(self):
        header = request.headers.get("Authorization")
        if header is None and "access_token" not in request.args:
            return {}  # no token: the handler's grant check refuses it, as LiveKit does
        token = request.args.get("access_token", "")
        if header is not None:
            if not header.startswith("Bearer "):
                return Response(
                    "invalid authorization header. Must start with Bearer ", status=401, content_type="text/plain"
                )
            token = header[len("Bearer ") :]
        try:
            return jwt.decode(
                token,
                self.api_secret,
                algorithms=["HS256"],
                issuer=self.api_key,
                leeway=60,
                options={"require": ["exp", "iss"]},
            )
        except jwt.PyJWTError:
            return Response("invalid authorization token", status=401, content_type="text/plain")

    # --- grants (pkg/service/auth.go) ----------------------------------------------------------

    @staticmethod
    def _require_video(claims: dict, grant: str) -> None:
        if not claims.get("video", {}).get(grant):
            raise TwirpError("unauthenticated", "permissions denied")

    def _require_admin(self, claims: dict, room: str) -> None:
        video = claims.get("video", {})
        if not video.get("roomAdmin") or video.get("room") != room:
            raise TwirpError("unauthenticated", "permissions denied")

    @staticmethod
    def _require_sip(claims: dict, grant: str) -> None:
        if not claims.get("sip", {}).get(grant):
            raise TwirpError("unauthenticated", "permissions denied")

    # --- RoomService ---------------------------------------------------------------------------

    def _create_room(self, req: proto_room.CreateRoomRequest, claims: dict) -> models.Room:
        self._require_video(claims, "roomCreate")
        if not req.name:
            raise TwirpError("invalid_argument", "room name cannot be empty")
        if req.name in self.rooms:  # LiveKit returns the existing room unchanged
            return self.rooms[req.name]
        return self.add_room(req.name, req.metadata, max_participants=req.max_participants)

    def _list_rooms(self, req: proto_room.ListRoomsRequest, claims: dict) -> proto_room.ListRoomsResponse:
        self._require_video(claims, "roomList")
        names = set(req.names)
        return proto_room.ListRoomsResponse(rooms=[r for n, r in self.rooms.items() if not names or n in names])

    def _delete_room(self, req: proto_room.DeleteRoomRequest, claims: dict) -> proto_room.DeleteRoomResponse:
        self._require_video(claims, "roomCreate")
        if req.room not in self.rooms:
            raise TwirpError("not_found", "requested room does not exist")
        del self.rooms[req.room]
        self.participants.pop(req.room, None)
        return proto_room.DeleteRoomResponse()

    def _update_metadata(self, req: proto_room.UpdateRoomMetadataRequest, claims: dict) -> models.Room:
        self._require_admin(claims, req.room)
        room = self._room(req.room)
        room.metadata = req.metadata
        return room

    def _list_participants(
        self, req: proto_room.ListParticipantsRequest, claims: dict
    ) -> proto_room.ListParticipantsResponse:
        self._require_admin(claims, req.room)
        self._room(req.room)
        return proto_room.ListParticipantsResponse(participants=list(self.participants[req.room].values()))

    def _get_participant(self, req: proto_room.RoomParticipantIdentity, claims: dict) -> models.ParticipantInfo:
        self._require_admin(claims, req.room)
        return self._participant(req.room, req.identity)

    def _remove_participant(
        self, req: proto_room.RoomParticipantIdentity, claims: dict
    ) -> proto_room.RemoveParticipantResponse:
        self._require_admin(claims, req.room)
        self._participant(req.room, req.identity)
        del self.participants[req.room][req.identity]
        self._count(req.room)
        return proto_room.RemoveParticipantResponse()

    def _mute_track(self, req: proto_room.MuteRoomTrackRequest, claims: dict) -> proto_room.MuteRoomTrackResponse:
        self._require_admin(claims, req.room)
        participant = self._participant(req.room, req.identity)
        for track in participant.tracks:
            if track.sid == req.track_sid:
                track.muted = req.muted
                return proto_room.MuteRoomTrackResponse(track=track)
        raise TwirpError("not_found", "track is not found")

    # --- SIP -----------------------------------------------------------------------------------

    def _create_sip_participant(
        self, req: proto_sip.CreateSIPParticipantRequest, claims: dict
    ) -> proto_sip.SIPParticipantInfo:
        self._require_sip(claims, "call")
        # livekit/protocol livekit/sip.go Validate()
        if not req.sip_trunk_id and not req.HasField("trunk") and not req.sip_number:
            raise TwirpError("invalid_argument", "missing sip trunk id and sip number")
        if req.HasField("trunk") and not req.trunk.hostname:
            raise TwirpError("invalid_argument", "no outbound hostname specified")
        if not req.sip_call_to:
            raise TwirpError("invalid_argument", "missing sip callee number")
        if "@" in req.sip_call_to:
            raise TwirpError("invalid_argument", "sip_call_to should be a phone number or SIP user, not a full SIP URI")
        if not req.room_name:
            raise TwirpError("invalid_argument", "missing room name")
        if req.sip_trunk_id and not req.sip_trunk_id.startswith("ST_"):
            raise TwirpError("not_found", "requested sip trunk does not exist")
        self.sip_calls.append(req)
        identity = req.participant_identity or f"sip_{req.sip_call_to}"
        participant = self.add_participant(
            req.room_name,
            identity,
            name=req.participant_name,
            kind="SIP",
            attributes={"sip.phoneNumber": req.sip_call_to, "sip.trunkPhoneNumber": req.sip_number},
        )
        return proto_sip.SIPParticipantInfo(
            participant_id=participant.sid,
            participant_identity=identity,
            room_name=req.room_name,
            sip_call_id=self._id("SCL_"),
        )

    def _transfer(
        self, req: proto_sip.TransferSIPParticipantRequest, claims: dict
    ) -> proto_sip.TransferSIPParticipantResponse:
        self._require_sip(claims, "call")
        self._require_admin(claims, req.room_name)
        participant = self._participant(req.room_name, req.participant_identity)
        if participant.kind != models.ParticipantInfo.Kind.SIP:
            raise TwirpError("failed_precondition", "participant is not a SIP participant")
        if not req.transfer_to:
            raise TwirpError("invalid_argument", "missing transfer to")
        self.transfers.append(req)
        return proto_sip.TransferSIPParticipantResponse(
            transfer_id=self._id("STR_"), status=proto_sip.SIPTransferStatus.STS_TRANSFER_SUCCESSFUL
        )

    # --- state helpers -------------------------------------------------------------------------

    def _room(self, name: str) -> models.Room:
        if name not in self.rooms:
            raise TwirpError("not_found", "requested room does not exist")
        return self.rooms[name]

    def _participant(self, room: str, identity: str) -> models.ParticipantInfo:
        self._room(room)
        if identity not in self.participants[room]:
            raise TwirpError("not_found", "participant does not exist")
        return self.participants[room][identity]

    def _count(self, room: str) -> None:
        self.rooms[room].num_participants = len(self.participants[room])

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):012x}"


def _error(code: str, msg: str, meta: dict | None = None) -> Response:
    body = {"code": code, "msg": msg}
    if meta:
        body["meta"] = meta
    return Response(json.dumps(body), status=_TWIRP_STATUS[code], content_type="application/json")
