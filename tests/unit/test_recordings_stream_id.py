import pytest

from app.services.recordings import MAX_STREAM_ID_BYTES, InvalidStreamId, validate_stream_id


@pytest.mark.parametrize(
    "stream_id",
    [
        "550e8400-e29b-41d4-a716-446655440000",
        "call-42",
        "room_7.session.1",
        "a.b",
        ".hidden",
        "with space",
        "émission-été",
        "通话-1",
        "x" * MAX_STREAM_ID_BYTES,
    ],
)
def test_ordinary_ids_are_accepted_unchanged(stream_id):
    assert validate_stream_id(stream_id) == stream_id


@pytest.mark.parametrize(
    "stream_id, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        (".", "'..'"),
        ("..", "'..'"),
        ("a..b", "'..'"),
        ("../etc/passwd", "slash"),
        ("a/b", "slash"),
        ("/", "slash"),
        ("a\\b", "backslash"),
        ("..\\windows", "backslash"),
        ("a\x00b", "control"),
        ("a\nb", "control"),
        ("a\r\nX-Injected: 1", "control"),
        ("\x1b[31m", "control"),
        ("a\x7fb", "control"),
        ("a\u202eb", "invisible"),  # right-to-left override
        ("a\u200bb", "invisible"),  # zero-width space
        ("a\u2028b", "invisible"),  # line separator
        ("a%2Fb", "percent"),  # %252F decoded once
        ("%2e%2e", "percent"),
        ("\ufffd\ufffd", "UTF-8"),  # %C0%AE%C0%AE: overlong dots, decoded as invalid UTF-8
        ("a\uff0fb", "looks like"),  # fullwidth solidus, NFKC "/"
        ("\uff0e\uff0e", "looks like"),  # fullwidth full stops, NFKC ".."
        ("a\u2215b", "looks like"),  # division slash
        ("a\u2044b", "looks like"),  # fraction slash
        ("\u2025", "looks like"),  # two-dot leader
        ("a\uff3cb", "looks like"),  # fullwidth reverse solidus
        ("\u2100", "looks like"),  # ℀ folds to "a/c"
        ("x" * (MAX_STREAM_ID_BYTES + 1), "longer"),
        ("é" * (MAX_STREAM_ID_BYTES // 2 + 1), "longer"),  # 2 bytes each in UTF-8
    ],
)
def test_unsafe_ids_are_refused_with_a_reason(stream_id, reason):
    with pytest.raises(InvalidStreamId) as caught:
        validate_stream_id(stream_id)
    assert caught.value.status == 400 and caught.value.code == "invalid_stream_id"
    assert reason in caught.value.message
