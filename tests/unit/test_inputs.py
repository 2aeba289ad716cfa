"""Reading a JSON body (xweb_emulator.inputs.read_json): nesting refused past JSON.NET's MaxDepth, whether the
document holds a \\u escape (every string checked as well) or not (its containers alone walked)."""

from __future__ import annotations

import json

import pytest

from xweb_emulator.inputs import DEPTH, MAX_DEPTH, UnreadableJson, read_json


def _nested(levels: int, innermost: str, container: str) -> bytes:
    """`levels` containers one inside the other, the innermost holding the JSON text `innermost`, beside a
    shallow sibling (a document is not refused for its first branch alone)."""
    opening, closing = ("[", "]") if container == "list" else ('{"a": ', "}")
    deep = opening * levels + innermost + closing * levels
    return f'[[1, {{"b": "c"}}], {deep}]'.encode()


@pytest.mark.parametrize("container", ["list", "object"])
@pytest.mark.parametrize("innermost", ['"A"', '"\\u0041"'], ids=["plain", "escaped"])
@pytest.mark.parametrize("levels", [MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 5])
def test_a_document_nested_deeper_than_max_depth_is_refused_and_no_shallower_one(levels, innermost, container):
    body = _nested(levels, innermost, container)  # in the outer list: levels + 1 deep
    if levels + 1 <= MAX_DEPTH:
        assert read_json(body) == json.loads(body)
    else:
        with pytest.raises(UnreadableJson) as refused:
            read_json(body)
        assert refused.value.kind == DEPTH


def test_a_lone_surrogate_is_still_found_in_a_deep_document():
    with pytest.raises(UnreadableJson) as refused:
        read_json(_nested(MAX_DEPTH - 1, '"\\udfff"', "list"))
    assert refused.value.json_net.startswith("Bad JSON escape sequence: \\udfff.")
