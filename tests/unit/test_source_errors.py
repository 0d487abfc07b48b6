"""SourceError helpers: how long to wait, whether it is worth retrying, no secrets in text."""

from __future__ import annotations

import pytest

from cockpit.model import SourceName
from cockpit.sources.errors import SourceError, connection_refused, retry_after_seconds, scrub


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "12"}, 12.0),
        ({"Retry-After": "Thu, 01 Jan 1970 00:16:52 GMT"}, 12.0),
        ({"RateLimit-Reset": "1012"}, 12.0),
        ({"RateLimit-Reset": "900"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers, now=1000.0) == expected


@pytest.mark.parametrize(
    ("status", "transient"), [(None, True), (429, True), (503, True), (403, False), (404, False)]
)
def test_transient_by_status(status: int | None, transient: bool) -> None:
    assert SourceError(SourceName.GITLAB, "x", status=status).transient is transient


def test_scrub_masks_secrets_and_token_parameters() -> None:
    text = "GET https://g.example/api/v4/user?private_token=abc123&x=1 failed with glpat-xyz"
    assert scrub(text, ["glpat-xyz"]) == (
        "GET https://g.example/api/v4/user?private_token=***&x=1 failed with ***"
    )


def test_refused_found_in_the_causes() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connect call failed")
        except OSError as inner:
            raise RuntimeError("All connection attempts failed") from inner
    except RuntimeError as outer:
        assert connection_refused(outer)
    assert not connection_refused(TimeoutError("timed out"))
