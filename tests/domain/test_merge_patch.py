"""JSON Merge Patch (RFC 7396): the RFC's examples and its algebraic properties."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.domain.merge_patch import merge_patch

RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC_EXAMPLES)
def test_rfc_7396_appendix_a(target, patch, expected):
    assert merge_patch(target, patch) == expected


scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=12,
)
objects = st.dictionaries(st.text(max_size=3), documents, max_size=4)


def without_nulls(value):
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return value


@given(target=documents, patch=documents)
def test_inputs_are_never_modified(target, patch):
    before = (copy.deepcopy(target), copy.deepcopy(patch))
    merge_patch(target, patch)
    assert (target, patch) == before


@given(target=documents, patch=documents)
def test_applying_the_same_patch_twice_is_idempotent(target, patch):
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once


@given(target=objects, patch=objects)
def test_patched_keys_take_the_patch_value_and_others_are_kept(target, patch):
    result = merge_patch(target, patch)
    for key, value in patch.items():
        if value is None:
            assert key not in result
        elif not isinstance(value, dict):
            assert result[key] == without_nulls(value)
    for key, value in target.items():
        if key not in patch:
            assert result[key] == value


@given(document=objects)
def test_a_document_without_nulls_patched_onto_anything_object_free_is_itself(document):
    clean = without_nulls(document)
    assert merge_patch({}, clean) == clean
