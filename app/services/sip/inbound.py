"""An inbound SIP call, read from LiveKit's `participant_joined` webhook event.

LiveKit's SIP service puts the call's details in the participant's attributes: `sip.phoneNumber`
(caller), `sip.trunkPhoneNumber` (number dialled) and every SIP header as `sip.h.<name>`."""

from __future__ import annotations

from dataclasses import dataclass, field

from livekit.protocol.webhook import WebhookEvent

_HEADER_PREFIX = "sip.h."


@dataclass(frozen=True)
class InboundCall:
    sip_host: str
    from_phone_number: str
    to_phone_number: str
    room_name: str
    room_sid: str
    participant_identity: str
    participant_sid: str
    participant_name: str = ""
    sip_headers: dict[str, str] = field(default_factory=dict)


def inbound_call(event: WebhookEvent) -> InboundCall | None:
    """The call, or None when the event is not a SIP participant joining with a routable To host."""
    if event.event != "participant_joined" or not event.HasField("participant"):
        return None
    attributes = dict(event.participant.attributes)
    to_header = attributes.get("sip.h.x-to-ip") or attributes.get("sip.h.to") or ""
    host = sip_domain(to_header)
    caller, dialled = attributes.get("sip.phoneNumber", ""), attributes.get("sip.trunkPhoneNumber", "")
    if not (host and caller and dialled and event.participant.identity and event.room.name):
        return None
    return InboundCall(
        sip_host=host,
        from_phone_number=caller,
        to_phone_number=dialled,
        room_name=event.room.name,
        room_sid=event.room.sid,
        participant_identity=event.participant.identity,
        participant_sid=event.participant.sid,
        participant_name=event.participant.name,
        sip_headers={k[len(_HEADER_PREFIX) :]: v for k, v in attributes.items() if k.startswith(_HEADER_PREFIX)},
    )


def sip_domain(header: str) -> str | None:
    """The host of a SIP To header: `"Sales" <sip:+1555@Sip.Example.com:5060;transport=tcp>` → `sip.example.com`."""
    value = header.strip()
    if "<" in value and ">" in value.split("<", 1)[1]:
        value = value.split("<", 1)[1].split(">", 1)[0]
    value = value.split(";", 1)[0].strip()
    lowered = value.lower()
    for scheme in ("sips:", "sip:"):
        if lowered.startswith(scheme):
            value = value[len(scheme) :].rsplit("@", 1)[-1]
            break
    else:
        if "@" in value or " " in value or "." not in value:
            return None
    host = value.split(":", 1)[0].strip().lower()
    return host or None
