from datetime import UTC, datetime

import pytest

from app.errors import RangeNotSatisfiable
from app.services.recordings import ByteRange, DownloadRequest, RecordingInfo
from app.services.recordings.download import plan_download

STORED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
INFO = RecordingInfo(size=1000, etag='"abc123"', last_modified=STORED)


def plan(**headers):
    return plan_download(INFO, DownloadRequest(**headers))


def test_a_plain_get_sends_the_whole_recording():
    assert plan() == (200, None)


@pytest.mark.parametrize(
    "header, start, end",
    [
        ("bytes=0-99", 0, 99),
        ("bytes=900-", 900, 999),
        ("bytes=-100", 900, 999),
        ("bytes=990-5000", 990, 999),  # a last byte past the end is clamped
        ("bytes=0-0", 0, 0),
    ],
)
def test_one_satisfiable_range_is_sent_as_206(header, start, end):
    assert plan(range=header) == (206, ByteRange(start, end))


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000"])
def test_a_range_beyond_the_end_is_416_with_the_size(header):
    with pytest.raises(RangeNotSatisfiable) as caught:
        plan(range=header)
    assert caught.value.status == 416
    assert caught.value.headers["Content-Range"] == "bytes */1000"


def test_any_range_of_an_empty_recording_is_unsatisfiable():
    with pytest.raises(RangeNotSatisfiable):
        plan_download(RecordingInfo(size=0, etag='"e"'), DownloadRequest(range="bytes=0-"))


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "bytes=9-2", "pages=1-2", "bytes=abc", "bytes="])
def test_several_ranges_or_a_malformed_header_are_ignored(header):
    assert plan(range=header) == (200, None)


def test_head_ignores_the_range():
    assert plan(method="HEAD", range="bytes=0-9") == (200, None)


@pytest.mark.parametrize("header", ['"abc123"', 'W/"abc123"', '"other", "abc123"', "*"])
def test_a_matching_if_none_match_is_304(header):
    assert plan(if_none_match=header) == (304, None)
    assert plan(method="HEAD", if_none_match=header) == (304, None)


def test_a_stale_if_none_match_sends_the_recording():
    assert plan(if_none_match='"old"') == (200, None)


def test_if_modified_since_is_304_only_when_not_modified_since():
    assert plan(if_modified_since="Sun, 01 Mar 2026 12:00:00 GMT") == (304, None)
    assert plan(if_modified_since="Sun, 01 Mar 2026 11:59:59 GMT") == (200, None)


def test_if_none_match_wins_over_if_modified_since():
    assert plan(if_none_match='"old"', if_modified_since="Sun, 01 Mar 2026 12:00:00 GMT") == (200, None)


def test_if_range_with_the_current_etag_honours_the_range():
    assert plan(range="bytes=0-9", if_range='"abc123"') == (206, ByteRange(0, 9))


@pytest.mark.parametrize("if_range", ['"old"', 'W/"abc123"', "Sun, 01 Mar 2026 11:00:00 GMT", "garbage"])
def test_if_range_with_a_stale_or_weak_validator_sends_the_whole_recording(if_range):
    assert plan(range="bytes=0-9", if_range=if_range) == (200, None)


def test_if_range_with_the_exact_date_honours_the_range():
    assert plan(range="bytes=0-9", if_range="Sun, 01 Mar 2026 12:00:00 GMT") == (206, ByteRange(0, 9))
