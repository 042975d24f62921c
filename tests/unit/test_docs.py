"""The API reference a person clicks through first: plain summaries, valid examples, audio declared."""

from __future__ import annotations


def _operations(client):
    yield from _operations_of(client.get("/openapi.json").json)


def _operations_of(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "delete", "patch", "head"):
                yield f"{method.upper()} {path}", operation


def test_every_summary_is_one_plain_sentence(client):
    for name, operation in _operations(client):
        summary = operation.get("summary", "")
        assert summary and "`" not in summary and "\n" not in summary and summary.endswith("."), (name, summary)


def test_the_speak_example_is_accepted_as_is_and_audio_is_declared_first(client):
    speak = dict(_operations(client))["POST /speak"]
    example = speak["requestBody"]["content"]["application/json"]["example"]
    content = speak["responses"]["200"]["content"]
    assert list(content)[0] == "audio/wav" and content["audio/wav"]["schema"]["format"] == "binary"
    response = client.post("/speak", json=example, headers={"Accept": "audio/wav"})
    assert response.status_code == 200 and response.content_type == "audio/wav"


def test_docs_link_the_playground_and_have_a_favicon(client):
    assert "(/playground)" in client.get("/openapi.json").json["info"]["description"]
    assert 'href="/favicon.ico"' in client.get("/docs").get_data(as_text=True)
    with client.get("/favicon.ico") as favicon:  # a file response: closing it closes the file
        assert favicon.status_code == 200 and favicon.content_type == "image/png"
    assert client.get("/playground").status_code == 200


def test_every_error_the_server_answers_is_declared_with_the_error_body(make_app):
    secrets = '[{"id": "acme", "secret": "s3cret-token"}]'
    spec = make_app(AUTH_REQUIRED="true", AUTH_API_SECRETS_JSON=secrets).test_client().get("/openapi.json").json
    operations = dict(_operations_of(spec))
    public = {"GET /", "GET /ready", "POST /livekit/webhook"}
    assert public <= set(operations)
    for name, operation in operations.items():
        responses = operation["responses"]
        assert "default" not in responses, name
        assert "401" in responses or name in public, name
        assert {"400", "500"} <= set(responses), name  # 400: any URL with a NUL, whatever the route takes
        if "requestBody" in operation:
            assert "413" in responses, name
        for status, response in responses.items():
            if status[0] in "45":
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
                    name,
                    status,
                )


def test_without_auth_the_document_asks_for_no_token(client):
    spec = client.get("/openapi.json").json
    assert spec["security"] == []
    signed = {"POST /livekit/webhook"}  # its 401 is a bad signature, not a missing token
    assert all("401" not in operation["responses"] for name, operation in _operations_of(spec) if name not in signed)


def test_request_bounds_are_declared_as_enforced(client):
    spec = client.get("/openapi.json").json
    schemas = spec["components"]["schemas"]
    for name in ("connection_timeout", "request_timeout"):
        timeout = schemas["TTSConfig"]["properties"][name]
        assert timeout["minimum"] == 0 and timeout["exclusiveMinimum"] is True and timeout["maximum"] == 3600
    assert schemas["SpeakRequest"]["properties"]["pronunciations"]["maxItems"] == 100
    assert schemas["Pronunciation"]["properties"]["word"] == {
        **schemas["Pronunciation"]["properties"]["word"],
        "minLength": 1,
        "maxLength": 100,
    }
    assert schemas["TokenRequest"]["properties"]["room_name"]["minLength"] == 1
    assert schemas["SipHookEntry"]["properties"]["host"]["maxLength"] == 255
    for schema, field in (
        ("SipCallRequest", "from_phone_number"),
        ("SipCallRequest", "to_phone_number"),
        ("SipTransferRequest", "transfer_to"),
    ):
        assert schemas[schema]["properties"][field]["pattern"] == r"^\s*\+?[0-9]+\s*$"
    stream_id = spec["paths"]["/recording/{stream_id}"]["parameters"][0]["schema"]
    assert stream_id["maxLength"] == 256 and stream_id["pattern"] == r"^[^/\\%\x00-\x1f\x7f]+$"


def test_get_and_head_speak_are_documented_with_every_answer(client):
    spec = client.get("/openapi.json").json
    error = {"$ref": "#/components/schemas/Error"}
    for method in ("get", "head"):
        operation = spec["paths"]["/speak"][method]
        parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert list(parameters) == [
            "text",
            "provider",
            "voice_id",
            "model",
            "audio_format",
            "sample_rate",
            "speaking_rate",
        ], method
        assert parameters["text"]["required"] is True
        responses = operation["responses"]
        assert {"200", "206", "304", "400", "416", "500"} <= set(responses), method
        assert list(responses["200"]["content"])[0] == "audio/wav"
        for status in ("400", "416", "500"):
            assert responses[status]["content"]["application/json"]["schema"] == error, (method, status)
        assert {"ETag", "Cache-Control", "x-cache"} <= set(responses["200"]["headers"])
