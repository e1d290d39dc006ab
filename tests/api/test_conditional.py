"""If-None-Match, one comparison for every route that answers 304."""

from __future__ import annotations

import pytest

from catalog.entrypoints.api.conditional import none_match


@pytest.mark.parametrize(
    ("header", "etag", "current"),
    [
        ('"3"', '"3"', True),
        ('W/"3"', '"3"', True),  # weak comparison: W/ is ignored on either side
        ('"3"', 'W/"3"', True),
        ('"1", "3" , "5"', '"3"', True),
        ("*", '"3"', True),
        (" * ", '"3"', True),
        ('"2"', '"3"', False),
        ('"3;channel=meta"', '"3"', False),  # another representation of the same version
        ('"1", "2"', '"3"', False),
    ],
)
def test_none_match_compares_weakly_against_every_listed_tag(
    header: str, etag: str, current: bool
) -> None:
    assert none_match(header, etag) is current
