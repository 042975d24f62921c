"""No secret ever reaches a log line, whatever code logs it."""

import io
import json
import logging

from app.log import AppLogHandler, SecretRedactor, configure_logging


def test_redactor_masks_configured_secrets_and_credential_fragments():
    redactor = SecretRedactor({"dg-live-key-123", "sip-pass-9"})
    text = redactor.redact(
        "calling with dg-live-key-123, Authorization: Bearer abc.def.ghi "
        'url=/x?api_key=tok123&a=1 {"auth_password": "sip-pass-9", "password": "p4ss"}'
    )
    for leaked in ("dg-live-key-123", "abc.def.ghi", "tok123", "sip-pass-9", "p4ss"):
        assert leaked not in text
    assert "calling with ***" in text


def test_log_lines_are_json_and_carry_no_secret(make_settings):
    settings = make_settings(DEEPGRAM_API_KEY="dg-live-key-123", LOG_LEVEL="INFO")
    configure_logging(settings)
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, AppLogHandler))
    stream = io.StringIO()
    handler.setStream(stream)
    log = logging.getLogger("app.test")
    log.warning("provider refused key %s", "dg-live-key-123")
    try:
        raise RuntimeError("boom with dg-live-key-123")
    except RuntimeError:
        log.exception("failure")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "provider refused key ***"
    assert "dg-live-key-123" not in stream.getvalue()
    assert lines[0]["level"] == "WARNING"


def test_access_log_has_path_without_query_and_the_request_id(make_app):
    app = make_app(LOG_LEVEL="INFO", AUTH_REQUIRED="true", AUTH_API_SECRET="query-token-secret")
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, AppLogHandler))
    stream = io.StringIO()
    handler.setStream(stream)
    response = app.test_client().get("/voices?api_key=query-token-secret", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    output = stream.getvalue()
    assert "query-token-secret" not in output
    access = [json.loads(line) for line in output.splitlines() if '"app.access"' in line]
    assert access and access[-1]["path"] == "/voices" and access[-1]["request_id"] == "abc-123"
