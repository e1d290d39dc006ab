"""The stored text of documents: compact, UTF-8 kept as is, and the same values read back,
whatever JSON an attribute holds (integers beyond 64 bits included)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from catalog.adapters.stored_values import compact_json

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_every_json_value_reads_back_the_same(value: Any) -> None:
    assert json.loads(compact_json(value)) == value


def test_compact_and_unescaped() -> None:
    assert compact_json({"name": "Camiseta é 日本", "n": [1, 2]}) == (
        '{"name":"Camiseta é 日本","n":[1,2]}'
    )


def test_integers_beyond_64_bits_are_kept() -> None:
    assert compact_json({"serial": 10**30}) == '{"serial":1000000000000000000000000000000}'
