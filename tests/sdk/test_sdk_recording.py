"""The official Python SDK (`sayna-client`, unmodified) downloads recordings from our app served live."""

from __future__ import annotations

import asyncio
import os

import pytest
from sayna_client import SaynaClient
from sayna_client.errors import SaynaHttpError, SaynaServerError, SaynaValidationError

from tests.fakes.s3 import s3_server  # noqa: F401 - fixture
from tests.fakes.server import FakeServer

AUDIO = b"OggS" + os.urandom(3 * 1024 * 1024)  # a few MiB: several chunks on the wire


def sdk_call(url: str, method: str, *args, api_key: str | None = None):
    async def run():
        client = SaynaClient(url, without_audio=True, api_key=api_key)
        try:
            return await getattr(client, method)(*args)
        finally:
            await client._http_client.close()  # the SDK only closes its HTTP session on disconnect()

    return asyncio.run(run())


@pytest.fixture(params=["s3", "file"])
def served_app(request, make_app, s3_server, tmp_path):  # noqa: F811
    """Our app on a real port with the recording "call-1" stored (owned by tenant "acme")."""
    auth = {
        "AUTH_API_SECRETS_JSON": '[{"id": "acme", "secret": "acme-key"}, {"id": "globex", "secret": "globex-key"}]',
        "AUTH_REQUIRED": "true",
    }
    if request.param == "s3":
        bucket = s3_server.new_bucket()
        s3_server.put(bucket, "sessions/call-1/audio.ogg", AUDIO, owner="acme")
        env = {**s3_server.env(bucket), "RECORDING_PREFIX": "sessions"}
    else:
        folder = tmp_path / "recordings" / "sessions" / "call-1"
        folder.mkdir(parents=True)
        (folder / "audio.ogg").write_bytes(AUDIO)
        (folder / "audio.ogg.metadata.json").write_text('{"auth_id": "acme"}')
        env = {
            "RECORDING_BACKEND": "file",
            "RECORDING_PATH": str(tmp_path / "recordings"),
            "RECORDING_PREFIX": "sessions",
        }
    with FakeServer(make_app(**env, **auth)) as server:
        yield server.url


def test_get_recording_returns_the_stored_bytes(served_app):
    audio, headers = sdk_call(served_app, "get_recording", "call-1", api_key="acme-key")
    assert audio == AUDIO
    assert headers["Content-Type"] == "audio/ogg"
    assert headers["Content-Length"] == str(len(AUDIO))
    assert headers["Content-Disposition"] == 'attachment; filename="call-1.ogg"'


def test_get_recording_of_a_missing_or_foreign_recording_is_an_http_error(served_app):
    for api_key, stream_id in [("acme-key", "call-404"), ("globex-key", "call-1")]:
        with pytest.raises(SaynaHttpError) as caught:
            sdk_call(served_app, "get_recording", stream_id, api_key=api_key)
        assert caught.value.status_code == 404
        assert "Recording not found" in str(caught.value)


def test_get_recording_with_an_unsafe_id_is_a_validation_error(served_app):
    # The SDK interpolates the id unencoded: yarl percent-encodes the backslash and the NUL.
    for stream_id in ["..\\secret", "call\x00-1", "x" * 300]:
        with pytest.raises(SaynaValidationError) as caught:
            sdk_call(served_app, "get_recording", stream_id, api_key="acme-key")
        assert "Invalid stream_id format" in str(caught.value)


def test_get_recording_without_storage_is_a_server_error(make_app):
    with FakeServer(make_app(RECORDING_BACKEND="none")) as server:
        with pytest.raises(SaynaServerError) as caught:
            sdk_call(server.url, "get_recording", "call-1")
    assert caught.value.status_code == 503 and "not configured" in str(caught.value)
