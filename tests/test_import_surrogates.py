"""Lone surrogate escapes in JSON are replaced before the streaming parser sees them, wherever windows fall."""

import io
import json
import random

import pytest

from issues.importers.formats import SurrogateEscapeFilter

PIECES = ["a", "\\\\", "\\ud83d\\ude00", "\\ud83d", "\\ude00", "\\\\ud83d", "\\u00e9", "xxxxx", "\\\\\\ud800", '\\"']


def filtered(data: bytes, window: int) -> bytes:
    reader = SurrogateEscapeFilter(io.BytesIO(data))
    reader.window = window
    return io.BufferedReader(reader).read()


def json_strings(count: int):
    rng = random.Random(3)
    while count:
        text = '"' + "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40))) + '"'
        try:
            json.loads(text)
        except ValueError:
            continue
        count -= 1
        yield text


@pytest.mark.parametrize("window", [1, 5, 12, 13, 64, 256 * 1024])
def test_it_replaces_exactly_the_lone_surrogates(window):
    for text in json_strings(500):
        # What a careful decoder makes of it: pairs joined, lone halves replaced.
        expected = json.loads(text).encode("utf-16", "surrogatepass").decode("utf-16", "replace")

        result = filtered(text.encode(), window)

        assert json.loads(result) == expected, text
