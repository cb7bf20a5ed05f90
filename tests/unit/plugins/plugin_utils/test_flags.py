"""Parsing the flags option and naming the flags a host reports."""
from __future__ import annotations

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._flags import (
    FlagsError,
    canonical_names,
    format_flags,
    names_from_host,
    parse_flags,
)

GOOD_FLAGS = [
    # (value as the task gives it, expected DWORD)
    (None, None),
    ([], 0),
    ("", 0),
    ("   ", 0),
    ("local_file", 1),
    ("NETWORK", 2),
    ("bg_token_local_file", 1),
    ("BG_TOKEN_NETWORK", 2),
    ("Bg_Token_Network", 2),
    (["local_file", "network"], 3),
    (["network", "local_file"], 3),
    (["network", "network"], 2),
    ("local_file,network", 3),
    (" local_file , NETWORK ", 3),
    (["local_file,network"], 3),
    (0, 0),
    (1, 1),
    (3, 3),
    ([2], 2),
    ([0], 0),
    ("3", 3),
    ("0", 0),
    ("0x0003", 3),
    ("0X1", 1),
    ("0x2", 2),
    (["0x0001", "network"], 3),
    (["1", 2], 3),
    ("0x0001,2", 3),
    (("local_file",), 1),
]


@pytest.mark.parametrize(("value", "expected"), GOOD_FLAGS, ids=[repr(value) for value, expected in GOOD_FLAGS])
def test_parse_flags_accepts(value: object, expected: int | None) -> None:
    assert parse_flags(value) == expected


BAD_FLAGS = [
    # (value, text the message must contain: the bad item and why)
    ("bogus", "unknown flag name 'bogus'"),
    (["local_file", "bogus"], "item 2: unknown flag name 'bogus'"),
    ("bg_token_", "unknown flag name 'bg_token_'"),
    ("BG_TOKEN_LOCAL", "unknown flag name 'BG_TOKEN_LOCAL'"),
    ("local-file", "unknown flag name 'local-file'"),
    (4, "4 sets bits 0x4"),
    ([8], "item 1: 8 sets bits 0x8"),
    ("7", "'7' sets bits 0x4"),
    ("0x0004", "'0x0004' sets bits 0x4"),
    ("0x10000", "'0x10000' sets bits 0x10000"),
    (-1, "-1 is negative"),
    (["-1"], "item 1: '-1' is negative"),
    ("-0x1", "'-0x1' is negative"),
    (True, "True is a boolean"),
    ([False], "item 1: False is a boolean"),
    (1.0, "1.0 is a float"),
    (["local_file", 2.5], "item 2: 2.5 is a float"),
    ("1.5", "'1.5' is not a whole number"),
    ("0x", "'0x' is not a valid hexadecimal number"),
    ("0xZZ", "'0xZZ' is not a valid hexadecimal number"),
    ("0x1g", "'0x1g' is not a valid hexadecimal number"),
    ("local_file,,network", "empty item between commas"),
    ("local_file,", "empty item between commas"),
    ([""], "item 1 is an empty string"),
    ([None], "item 1: a NoneType is not a flag"),
    ({"local_file": True}, "a dict is not a flag"),
    ([["local_file"]], "item 1: a list is not a flag"),
    ("\u00b2", "unknown flag name"),  # a superscript two is not a decimal number
]


@pytest.mark.parametrize(("value", "fragment"), BAD_FLAGS, ids=[repr(value) for value, fragment in BAD_FLAGS])
def test_parse_flags_rejects_naming_the_item(value: object, fragment: str) -> None:
    with pytest.raises(FlagsError) as caught:
        parse_flags(value)
    message = str(caught.value)
    assert message.startswith("flags")
    assert fragment in message
    assert "allowed: local_file (0x0001) and network (0x0002)" in message


@pytest.mark.parametrize(
    ("value", "names"),
    [(0, []), (1, ["local_file"]), (2, ["network"]), (3, ["local_file", "network"])],
)
def test_canonical_names_are_sorted_by_bit(value: int, names: list[str]) -> None:
    assert canonical_names(value) == names


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (0, []),
        (3, ["local_file", "network"]),
        (4, ["0x0004"]),
        (5, ["local_file", "0x0004"]),
        (0x8002, ["network", "0x8000"]),
        (0x80000000, ["0x80000000"]),
        (-2147483648, ["0x80000000"]),  # a DWORD read as a signed int
        (None, None),
        ("3", None),
        (True, None),
    ],
)
def test_names_from_host_shows_unknown_bits(value: object, names: list[str] | None) -> None:
    assert names_from_host(value) == names


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "none"), (1, "local_file"), (3, "local_file, network"), (6, "network, 0x0004"), (None, "unknown")],
)
def test_format_flags(value: object, text: str) -> None:
    assert format_flags(value) == text
