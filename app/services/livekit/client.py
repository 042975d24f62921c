"""A synchronous client for LiveKit's server API (Twirp over HTTP).

livekit-api's own `LiveKitAPI` is async-only and cannot be reused across `asyncio.run` calls; this
client posts the same livekit-protocol messages over one pooled `requests.Session` (measured faster,
one keep-alive connection). Every call carries a short-lived token with exactly the grants LiveKit
checks for that method."""

from __future__ import annotations

import logging
from datetime import timedelta

import requests
from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import DecodeError, Message
from livekit.api import AccessToken, SIPGrants, VideoGrants
from livekit.protocol import egress as proto_egress
from livekit.protocol import models
from livekit.protocol import room as proto_room
from livekit.protocol import sip as proto_sip

from app.services.livekit.errors import LiveKitError, LiveKitUnreachable
from app.services.metrics.instruments import LIVEKIT_CALL_ERRORS, LIVEKIT_CALLS

log = logging.getLogger(__name__)

_SERVER_TOKEN_TTL = timedelta(minutes=10)
_CONTENT_TYPES = {"protobuf": "application/protobuf", "json": "application/json"}


class LiveKitClient:
    def __init__(self, url: str, api_key: str, api_secret: str, *, timeout: float = 10.0, encoding: str = "protobuf"):
        if encoding not in _CONTENT_TYPES:
            raise ValueError(f"encoding must be one of {sorted(_CONTENT_TYPES)}")
        self.base_url = url.rstrip("/")
        self._api_key = api_key
        self._api_secret = api_secret
        self.timeout = timeout
        self.encoding = encoding
        self._session = requests.Session()

    def close(self) -> None:
        self._session.close()

    # --- rooms ---------------------------------------------------------------------------------

    def create_room(self, name: str, *, max_participants: int = 0, metadata: str = "") -> models.Room:
        """Create the room, or return it unchanged when it already exists (LiveKit's behaviour)."""
        request = proto_room.CreateRoomRequest(name=name, max_participants=max_participants, metadata=metadata)
        return self._call("RoomService", "CreateRoom", request, models.Room, video=VideoGrants(room_create=True))

    def list_rooms(self, names: list[str] | tuple[str, ...] = ()) -> list[models.Room]:
        """Every room, or only those named (an empty list means all rooms)."""
        request = proto_room.ListRoomsRequest(names=list(names))
        response = self._call(
            "RoomService", "ListRooms", request, proto_room.ListRoomsResponse, video=VideoGrants(room_list=True)
        )
        return list(response.rooms)

    def find_room(self, name: str) -> models.Room | None:
        return next((room for room in self.list_rooms([name]) if room.name == name), None)

    def update_room_metadata(self, room: str, metadata: str) -> models.Room:
        request = proto_room.UpdateRoomMetadataRequest(room=room, metadata=metadata)
        return self._call("RoomService", "UpdateRoomMetadata", request, models.Room, video=_admin(room))

    def list_participants(self, room: str) -> list[models.ParticipantInfo]:
        request = proto_room.ListParticipantsRequest(room=room)
        response = self._call(
            "RoomService", "ListParticipants", request, proto_room.ListParticipantsResponse, video=_admin(room)
        )
        return list(response.participants)

    def remove_participant(self, room: str, identity: str) -> None:
        request = proto_room.RoomParticipantIdentity(room=room, identity=identity)
        self._call(
            "RoomService", "RemoveParticipant", request, proto_room.RemoveParticipantResponse, video=_admin(room)
        )

    def mute_published_track(self, room: str, identity: str, track_sid: str, muted: bool) -> models.TrackInfo:
        request = proto_room.MuteRoomTrackRequest(room=room, identity=identity, track_sid=track_sid, muted=muted)
        response = self._call(
            "RoomService", "MutePublishedTrack", request, proto_room.MuteRoomTrackResponse, video=_admin(room)
        )
        return response.track

    # --- SIP -----------------------------------------------------------------------------------

    def create_sip_participant(
        self, request: proto_sip.CreateSIPParticipantRequest, *, timeout: float | None = None
    ) -> proto_sip.SIPParticipantInfo:
        """Dial out. LiveKit may hold the request while the call is set up: callers pass a timeout
        covering the ringing window (the SDK uses ringing timeout + 2 s)."""
        return self._call(
            "SIP",
            "CreateSIPParticipant",
            request,
            proto_sip.SIPParticipantInfo,
            sip=SIPGrants(call=True),
            timeout=timeout,
        )

    def transfer_sip_participant(
        self,
        room: str,
        identity: str,
        transfer_to: str,
        *,
        ringing_timeout_seconds: int = 30,
        timeout: float | None = None,
    ) -> None:
        request = proto_sip.TransferSIPParticipantRequest(
            room_name=room,
            participant_identity=identity,
            transfer_to=transfer_to,
            play_dialtone=False,
            ringing_timeout=Duration(seconds=ringing_timeout_seconds),
        )
        self._call(
            "SIP",
            "TransferSIPParticipant",
            request,
            proto_sip.TransferSIPParticipantResponse,
            video=_admin(room),
            sip=SIPGrants(call=True),
            timeout=timeout,
        )

    # --- egress (recordings) --------------------------------------------------------------------
    # LiveKit's egress service checks only the roomRecord grant (pkg/service/egress.go).

    def start_room_composite_egress(self, request: proto_egress.RoomCompositeEgressRequest) -> proto_egress.EgressInfo:
        return self._call("Egress", "StartRoomCompositeEgress", request, proto_egress.EgressInfo, video=_RECORD)

    def list_egress(self, room: str, *, active: bool = False) -> list[proto_egress.EgressInfo]:
        request = proto_egress.ListEgressRequest(room_name=room, active=active)
        response = self._call("Egress", "ListEgress", request, proto_egress.ListEgressResponse, video=_RECORD)
        return list(response.items)

    def stop_egress(self, egress_id: str) -> proto_egress.EgressInfo:
        request = proto_egress.StopEgressRequest(egress_id=egress_id)
        return self._call("Egress", "StopEgress", request, proto_egress.EgressInfo, video=_RECORD)

    # --- SIP inbound provisioning (SIP admin calls) ---------------------------------------------

    def list_sip_inbound_trunks(self) -> list[proto_sip.SIPInboundTrunkInfo]:
        response = self._call(
            "SIP",
            "ListSIPInboundTrunk",
            proto_sip.ListSIPInboundTrunkRequest(),
            proto_sip.ListSIPInboundTrunkResponse,
            sip=_SIP_ADMIN,
        )
        return list(response.items)

    def create_sip_inbound_trunk(self, trunk: proto_sip.SIPInboundTrunkInfo) -> proto_sip.SIPInboundTrunkInfo:
        return self._call(
            "SIP",
            "CreateSIPInboundTrunk",
            proto_sip.CreateSIPInboundTrunkRequest(trunk=trunk),
            proto_sip.SIPInboundTrunkInfo,
            sip=_SIP_ADMIN,
        )

    def set_sip_inbound_trunk_addresses(self, trunk_id: str, addresses: list[str]) -> proto_sip.SIPInboundTrunkInfo:
        request = proto_sip.UpdateSIPInboundTrunkRequest(
            sip_trunk_id=trunk_id,
            update=proto_sip.SIPInboundTrunkUpdate(allowed_addresses=models.ListUpdate(set=addresses)),
        )
        return self._call("SIP", "UpdateSIPInboundTrunk", request, proto_sip.SIPInboundTrunkInfo, sip=_SIP_ADMIN)

    def list_sip_dispatch_rules(self) -> list[proto_sip.SIPDispatchRuleInfo]:
        response = self._call(
            "SIP",
            "ListSIPDispatchRule",
            proto_sip.ListSIPDispatchRuleRequest(),
            proto_sip.ListSIPDispatchRuleResponse,
            sip=_SIP_ADMIN,
        )
        return list(response.items)

    def create_sip_dispatch_rule(self, rule: proto_sip.SIPDispatchRuleInfo) -> proto_sip.SIPDispatchRuleInfo:
        return self._call(
            "SIP",
            "CreateSIPDispatchRule",
            proto_sip.CreateSIPDispatchRuleRequest(dispatch_rule=rule),
            proto_sip.SIPDispatchRuleInfo,
            sip=_SIP_ADMIN,
        )

    # --- transport -----------------------------------------------------------------------------

    def _token(self, video: VideoGrants | None, sip: SIPGrants | None) -> str:
        token = AccessToken(self._api_key, self._api_secret).with_ttl(_SERVER_TOKEN_TTL)
        if video is not None:
            token.with_grants(video)
        if sip is not None:
            token.with_sip_grants(sip)
        return token.to_jwt()

    def _call(
        self,
        service: str,
        method: str,
        request: Message,
        response_class: type[Message],
        *,
        video: VideoGrants | None = None,
        sip: SIPGrants | None = None,
        timeout: float | None = None,
    ):
        """Every LiveKit call goes through here: counted, and its failures counted by reason."""
        LIVEKIT_CALLS.labels(method).inc()
        try:
            return self._send(service, method, request, response_class, video=video, sip=sip, timeout=timeout)
        except LiveKitUnreachable as exc:
            LIVEKIT_CALL_ERRORS.labels(method, "timeout" if exc.timed_out else "unreachable").inc()
            raise
        except LiveKitError as exc:
            reason = exc.twirp_code if exc.twirp_code in _TWIRP_CODES else "other"
            LIVEKIT_CALL_ERRORS.labels(method, reason).inc()
            raise

    def _send(
        self,
        service: str,
        method: str,
        request: Message,
        response_class: type[Message],
        *,
        video: VideoGrants | None,
        sip: SIPGrants | None,
        timeout: float | None,
    ):
        content_type = _CONTENT_TYPES[self.encoding]
        if self.encoding == "protobuf":
            body = request.SerializeToString()
        else:
            body = json_format.MessageToJson(request, indent=None).encode()
        try:
            response = self._session.post(
                f"{self.base_url}/twirp/livekit.{service}/{method}",
                data=body,
                headers={"Content-Type": content_type, "Authorization": "Bearer " + self._token(video, sip)},
                timeout=timeout or self.timeout,
            )
        except requests.ReadTimeout:
            # LiveKit got the request and has not answered yet (a connect timeout is plain unreachable).
            raise LiveKitUnreachable(f"LiveKit {method} timed out", timed_out=True) from None
        except requests.RequestException as exc:
            raise LiveKitUnreachable(f"LiveKit is unreachable ({method}: {type(exc).__name__})") from None
        if response.status_code != 200:
            raise _twirp_error(method, response)
        try:
            if self.encoding == "protobuf":
                return response_class.FromString(response.content)
            return json_format.Parse(response.content or b"{}", response_class(), ignore_unknown_fields=True)
        except (DecodeError, json_format.ParseError, ValueError):
            raise LiveKitError(
                f"LiveKit {method} returned an unreadable answer",
                twirp_code="malformed",
                http_status=response.status_code,
            ) from None


_RECORD = VideoGrants(room_record=True)
_SIP_ADMIN = SIPGrants(admin=True)

# Twirp's fixed error codes (twitchtv/twirp's spec) and ours for an unreadable answer: a label never
# carries free text from the server.
_TWIRP_CODES = frozenset(
    {
        "canceled",
        "unknown",
        "invalid_argument",
        "malformed",
        "deadline_exceeded",
        "not_found",
        "bad_route",
        "already_exists",
        "permission_denied",
        "unauthenticated",
        "resource_exhausted",
        "failed_precondition",
        "aborted",
        "out_of_range",
        "unimplemented",
        "internal",
        "unavailable",
        "data_loss",
    }
)


def _admin(room: str) -> VideoGrants:
    return VideoGrants(room_admin=True, room=room)


def _twirp_error(method: str, response: requests.Response) -> LiveKitError:
    """Twirp errors are JSON `{code, msg, meta}`; LiveKit's auth layer answers 401 in plain text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        code, message, meta = body["code"], str(body.get("msg") or ""), body.get("meta")
    else:
        code = "unauthenticated" if response.status_code == 401 else "unknown"
        message, meta = response.text.strip()[:200], None
    log.info("LiveKit %s failed: HTTP %s %s", method, response.status_code, code)
    return LiveKitError(
        f"LiveKit {method} failed: {code}: {message}".rstrip(": "),
        twirp_code=code,
        http_status=response.status_code,
        meta=meta if isinstance(meta, dict) else None,
    )
