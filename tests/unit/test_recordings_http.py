"""HTTP details of GET/HEAD /recording/<stream_id> that the feature file leaves out."""

import json

import pytest

from tests.fakes.server import unused_port_url


@pytest.fixture
def recordings_dir(tmp_path):
    return tmp_path / "recordings"


@pytest.fixture
def client(make_app, recordings_dir):
    return make_app(RECORDING_BACKEND="file", RECORDING_PATH=str(recordings_dir)).test_client()


def store(recordings_dir, stream_id, data=b"OggS" + bytes(996)):
    (recordings_dir / stream_id).mkdir(parents=True)
    (recordings_dir / stream_id / "audio.ogg").write_bytes(data)
    return data


def test_a_non_ascii_id_gets_an_ascii_filename_and_an_rfc_5987_one(client, recordings_dir):
    store(recordings_dir, "émission-1")
    response = client.get("/recording/%C3%A9mission-1")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"_mission-1.ogg\"; filename*=UTF-8''%C3%A9mission-1.ogg"
    )


def test_a_quote_in_the_id_cannot_break_out_of_the_filename(client, recordings_dir):
    store(recordings_dir, 'say"hi')
    disposition = client.get("/recording/say%22hi").headers["Content-Disposition"]
    assert disposition == "attachment; filename=\"say_hi.ogg\"; filename*=UTF-8''say%22hi.ogg"


def test_head_answers_304_to_a_current_etag(client, recordings_dir):
    store(recordings_dir, "call-1")
    etag = client.head("/recording/call-1").headers["ETag"]
    response = client.head("/recording/call-1", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    assert "Content-Type" not in response.headers


def test_not_modified_since_the_last_modified_date(client, recordings_dir):
    store(recordings_dir, "call-1")
    last_modified = client.get("/recording/call-1").headers["Last-Modified"]
    assert client.get("/recording/call-1", headers={"If-Modified-Since": last_modified}).status_code == 304


def test_416_tells_the_size_and_is_a_json_error(client, recordings_dir):
    store(recordings_dir, "call-1")
    response = client.get("/recording/call-1", headers={"Range": "bytes=1000-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */1000"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.get_json()["code"] == "range_not_satisfiable"


def test_several_ranges_get_the_whole_recording(client, recordings_dir):
    data = store(recordings_dir, "call-1")
    response = client.get("/recording/call-1", headers={"Range": "bytes=0-1,5-6"})
    assert response.status_code == 200 and response.data == data


def test_other_methods_are_a_json_405(client):
    response = client.post("/recording/call-1")
    assert response.status_code == 405
    assert response.get_json()["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_the_openapi_document_describes_the_endpoint(client):
    path = client.get("/openapi.json").get_json()["paths"]["/recording/{stream_id}"]
    assert {"get", "head"} <= set(path)
    assert {"200", "206", "304", "400", "404", "416", "503"} <= set(path["get"]["responses"])
    assert "audio/ogg" in path["get"]["responses"]["200"]["content"]
    assert [p["name"] for p in path["parameters"]] == ["stream_id"]


def test_errors_do_not_echo_secrets(make_app):
    env = {
        "RECORDING_BACKEND": "s3",
        "RECORDING_S3_BUCKET": "b",
        "RECORDING_S3_REGION": "us-east-1",
        "RECORDING_S3_ACCESS_KEY": "AKIAEXAMPLE",
        "RECORDING_S3_SECRET_KEY": "super-secret-value",
        "RECORDING_S3_ENDPOINT": unused_port_url(),
    }
    response = make_app(**env).test_client().get("/recording/call-1")
    assert response.status_code == 503
    assert "super-secret-value" not in json.dumps(response.get_json())
