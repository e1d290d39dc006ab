"""Page cursors: round trip, and every alteration or foreign use is refused (property-based)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from catalog.domain.errors import InvalidCursor
from catalog.service.cursors import CursorCodec

codec = CursorCodec(b"k" * 32)
merchants = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)
positions = st.text(min_size=1, max_size=60)
scopes = st.fixed_dictionaries(
    {"status": st.sampled_from([None, "DRAFT", "READY"]), "channel": st.none() | merchants}
)


@given(merchant=merchants, scope=scopes, position=positions)
def test_round_trip(merchant, scope, position):
    cursor = codec.encode(merchant, scope, position)
    assert codec.decode(merchant, scope, cursor) == position


@given(merchant=merchants, other=merchants, scope=scopes, position=positions)
def test_a_cursor_cannot_be_replayed_by_another_merchant(merchant, other, scope, position):
    assume(merchant != other)
    cursor = codec.encode(merchant, scope, position)
    with pytest.raises(InvalidCursor):
        codec.decode(other, scope, cursor)


@given(merchant=merchants, scope=scopes, other_scope=scopes, position=positions)
def test_a_cursor_is_bound_to_its_filters(merchant, scope, other_scope, position):
    assume(scope != other_scope)
    cursor = codec.encode(merchant, scope, position)
    with pytest.raises(InvalidCursor):
        codec.decode(merchant, other_scope, cursor)


@given(merchant=merchants, scope=scopes, position=positions, data=st.data())
def test_any_altered_character_is_refused(merchant, scope, position, data):
    cursor = codec.encode(merchant, scope, position)
    index = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.sampled_from("AbZ09-_.x"))
    assume(replacement != cursor[index])
    tampered = cursor[:index] + replacement + cursor[index + 1 :]
    # Base64 padding bits can make two strings decode alike; only a real change must fail.
    try:
        decoded = codec.decode(merchant, scope, tampered)
    except InvalidCursor:
        return
    assert decoded == position


@given(garbage=st.text(max_size=80))
def test_garbage_is_refused_not_crashed(garbage):
    with contextlib.suppress(InvalidCursor):
        codec.decode("acme", {}, garbage)


def test_another_secret_refuses_the_cursor():
    cursor = codec.encode("acme", {}, "01ABC")
    with pytest.raises(InvalidCursor):
        CursorCodec(b"z" * 32).decode("acme", {}, cursor)
