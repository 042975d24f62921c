"""The official Python SDK (`sayna-client`, unmodified) against our app served live on a real port, with the
fake LiveKit behind it: every LiveKit and SIP method, as two tenants who must not see each other's rooms."""

from __future__ import annotations

import asyncio
import json

import jwt
import pytest
from sayna_client import SaynaClient, SipCallSipConfig, SipHook
from sayna_client.errors import SaynaHttpError, SaynaValidationError

from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET
from tests.fakes.server import FakeServer

KEY, SECRET = TEST_API_KEY, TEST_API_SECRET
ACME, GLOBEX = "acme-sdk-secret-1", "globex-sdk-secret-2"


@pytest.fixture
def live_server(make_app, livekit):
    app = make_app(
        AUTH_REQUIRED="true",
        AUTH_API_SECRETS_JSON=json.dumps([{"id": "acme", "secret": ACME}, {"id": "globex", "secret": GLOBEX}]),
        LIVEKIT_URL=livekit.url.replace("http://", "ws://"),
        LIVEKIT_PUBLIC_URL="wss://rtc.example.com",
        LIVEKIT_API_KEY=KEY,
        LIVEKIT_API_SECRET=SECRET,
        SIP_ROOM_PREFIX="sip-",
        SIP_OUTBOUND_ADDRESS="sip.carrier.example",
        SIP_HOOK_SECRET="sdk-test-hook-secret-1234",
    )
    with FakeServer(app) as server:
        yield server


async def _as_tenants(url: str, scenario):
    acme = SaynaClient(url, without_audio=True, api_key=ACME)
    globex = SaynaClient(url, without_audio=True, api_key=GLOBEX)
    try:
        await scenario(acme, globex)
    finally:
        await acme._http_client.close()  # REST-only use never closes the SDK's aiohttp session itself
        await globex._http_client.close()


def test_sdk_livekit_and_sip_methods_with_tenant_isolation(live_server, livekit):
    room = "team/alpha"  # a `/`: the SDK sends %2F and the server must still find the room

    async def scenario(acme: SaynaClient, globex: SaynaClient):
        token = await acme.get_livekit_token(room, "Alex", "alex-1")
        claims = jwt.decode(token.token, SECRET, algorithms=["HS256"], issuer=KEY)
        assert (claims["sub"], claims["name"], claims["video"]["room"], claims["video"]["roomJoin"]) == (
            "alex-1",
            "Alex",
            room,
            True,
        )
        assert token.livekit_url == "wss://rtc.example.com"
        assert livekit.metadata_of(room) == {"auth_id": "acme"}
        with pytest.raises(SaynaHttpError) as denied:
            await globex.get_livekit_token(room, "Eve", "eve-9")
        assert denied.value.status_code == 403

        livekit.add_participant(room, "alex-1", name="Alex", tracks=("TR_mic",))
        livekit.add_participant(room, "caller-1", kind="SIP")

        assert [r.name for r in (await acme.get_livekit_rooms()).rooms] == [room]
        assert (await globex.get_livekit_rooms()).rooms == []

        details = await acme.get_livekit_room(room)
        assert details.name == room and details.num_participants == 2
        assert {(p.identity, p.kind, p.state) for p in details.participants} == {
            ("alex-1", "STANDARD", "ACTIVE"),
            ("caller-1", "SIP", "ACTIVE"),
        }
        with pytest.raises(SaynaHttpError) as hidden:
            await globex.get_livekit_room(room)
        assert hidden.value.status_code == 404

        muted = await acme.mute_livekit_participant_track(room, "alex-1", "TR_mic", True)
        assert muted.muted is True
        with pytest.raises(SaynaHttpError) as hidden:
            await globex.mute_livekit_participant_track(room, "alex-1", "TR_mic", False)
        assert hidden.value.status_code == 404

        transfer = await acme.sip_transfer_rest(room, "caller-1", "+15550001111")
        assert (transfer.status, transfer.transfer_to) == ("completed", "tel:+15550001111")
        with pytest.raises(SaynaHttpError) as hidden:
            await globex.sip_transfer_rest(room, "caller-1", "+15550002222")
        assert hidden.value.status_code == 404

        call = await acme.sip_call(
            room,
            "Customer",
            "customer-2",
            "+15105550123",
            "+15551234567",
            sip_config=SipCallSipConfig(
                outbound_address="sip.other.example:5060", auth_username="u1", auth_password="p1-secret"
            ),
        )
        assert call.status == "initiated" and call.participant_id.startswith("PA_")
        assert livekit.sip_calls[-1].trunk.hostname == "sip.other.example:5060"
        with pytest.raises(SaynaHttpError) as hidden:
            await globex.sip_call(room, "Intruder", "intruder-1", "+15105550123", "+15551234567")
        assert hidden.value.status_code == 404
        with pytest.raises(SaynaValidationError):
            await acme.sip_call(room, "Customer", "customer-3", "+15105550123", "call me maybe")

        with pytest.raises(SaynaHttpError) as hidden:
            await globex.remove_livekit_participant(room, "alex-1")
        assert hidden.value.status_code == 404
        removed = await acme.remove_livekit_participant(room, "alex-1")
        assert removed.status == "removed" and "alex-1" not in livekit.participants[room]

        hooks = await acme.set_sip_hooks(
            [SipHook(host="SIP.Acme.example", url="https://hooks.acme.example/sip", auth_id="acme")]
        )
        assert [(h.host, h.auth_id) for h in hooks.hooks] == [("sip.acme.example", "acme")]
        assert [h.host for h in (await acme.get_sip_hooks()).hooks] == ["sip.acme.example"]
        assert (await globex.get_sip_hooks()).hooks == []
        assert (await globex.delete_sip_hooks(["sip.acme.example"])).hooks == []
        assert [h.host for h in (await acme.get_sip_hooks()).hooks] == ["sip.acme.example"]
        assert (await acme.delete_sip_hooks(["sip.acme.example"])).hooks == []

    asyncio.run(_as_tenants(live_server.url, scenario))
