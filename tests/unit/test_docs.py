"""The API reference a person clicks through first: plain summaries, valid examples, audio declared."""

from __future__ import annotations


def _operations(client):
    spec = client.get("/openapi.json").json
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
