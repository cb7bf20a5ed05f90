"""json_text: the same text as json's and the same parsing as json's, with orjson and without it."""
from __future__ import annotations

import datetime
import json
import random

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._report import json_text

# Every character json writes differently (escapes, controls, quotes, non-ASCII, the widest planes).
EVERY_CHARACTER = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x10000))) + \
    "".join(map(chr, range(0x10000, 0x110000, 251)))
# Floats of every spelling: those orjson spells otherwise (1e-07, 1e-05) and those it spells alike.
FLOATS = [1e-07, 1e-05, -4.5e-05, 0.0001, 6.7e-06, 1e16, 1e22, 1.5e300, 5e-324, 0.1, -0.0, 2.5, 123456789.125]


def values() -> list:
    """Values a report can hold, and some only a hostile host result can."""
    return [
        {"name": EVERY_CHARACTER, "jobs": [], "caller": {}, "flags": ["local_file", "network"], "value": 3},
        {"b": None, "a": True, "c": False, "d": [[], {}, [{}]], "ü": "é", "A": "z"},
        {"big": 2 ** 64, "negative_big": -2 ** 70, "edge": [2 ** 63 - 1, 2 ** 64 - 1, -2 ** 63]},
        {"lone surrogate": "job\ud800name", "pair": "\U0001F600"},
    ] + [{"error": {"hresult": -2145386476, "ratio": value}} for value in FLOATS] + [
        {"tuple": ("a", 1)}, {2: "integer key", 1: "keys json makes text"},
        ["line\nbreak", "tab\t", "quote\"", "back\\slash", "\u2028\u2029", "\x7f", "e-5 0.00001 as text"],
        "plain", 7, None,
    ]


@pytest.fixture(params=["orjson", "json"])
def codec(request, monkeypatch):
    """json_text as it runs with orjson installed, and as it runs without it."""
    if request.param == "orjson":
        assert json_text.orjson is not None, "the tests' requirements install orjson"
    else:
        monkeypatch.setattr(json_text, "orjson", None)
    return json_text


@pytest.mark.parametrize("index", range(len(values())))
def test_indented_is_jsons_text(codec, index):
    value = values()[index]
    assert codec.indented(value) == json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("index", range(len(values())))
def test_compact_is_jsons_text_in_key_order(codec, index):
    value = values()[index]
    assert codec.compact(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_random_floats_are_spelled_as_json_spells_them(codec):
    generator = random.Random(7)
    floats = [generator.random() * 10.0 ** generator.randint(-12, 20) for _number in range(20_000)]
    for chunk in range(0, len(floats), 100):
        value = {"error": {"values": floats[chunk:chunk + 100]}}
        assert codec.compact(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_what_json_refuses_is_refused():
    with pytest.raises(TypeError):
        json_text.indented({"when": datetime.datetime(2026, 12, 4)})
    with pytest.raises(TypeError):
        json_text.compact({"when": datetime.date(2026, 12, 4)})


def test_the_fast_path_is_taken_with_orjson(monkeypatch):
    """Without this, a json_text that always fell back would pass every test above."""
    assert json_text.orjson is not None
    monkeypatch.setattr(json_text.json, "dumps", None)
    monkeypatch.setattr(json_text, "_compact_json", None)
    assert json_text.indented({"b": [1, "x"], "a": None}) == '{\n  "a": null,\n  "b": [\n    1,\n    "x"\n  ]\n}'
    assert json_text.compact({"b": 1, "a": "é"}) == '{"b":1,"a":"é"}'


def test_an_orjson_that_spells_numbers_otherwise_is_not_used():
    class OldOrjson:
        @staticmethod
        def dumps(value):
            return json.dumps(value, separators=(",", ":")).replace("e+", "e").encode("ascii")

    assert json_text.spells_numbers_as_json(OldOrjson) is False
    assert json_text.spells_numbers_as_json(json_text.orjson) is True


DOCUMENTS = [
    b'{"a": [1, 2.5, "x", null, true], "b": {"c": "\\u00e9"}}',
    b'{"big": 123456789012345678901234567890, "negative": -9223372036854775809, "edge": 18446744073709551615}',
    b'{"below the 64-bit range, in 19 digits": -9223372036854775809}',
    b'{"nan": NaN, "infinite": Infinity, "huge": 1e400}',
    b'{"lone": "\\ud800", "pair": "\\ud83d\\ude00"}',
    b'{"same key": 1, "same key": 2}',
    b'\xef\xbb\xbf{"bom": true}',
    b'{"not utf-8": "\xff"}',
    b'{"crlf":\r\n 1,\r\n "error" 2}',
    b'{"cr":\r 1,\r "error"}',
    b'{"raw control": "a\tb"}',
    b'{"a": "x\ry"}',
    b'{"a": "\xc3\xa9\r\n"}',
    '{"a": "\u00e9"}'.encode("utf-16"),
    b'[1, 2',
    b'',
    b'"text" trailing',
    b'[' * 10_000 + b']' * 10_000,
    b'[' * 2_000 + b']' * 2_000,
    '{"ü": "日本"}'.encode("utf-8"),
]


def outcome(parse, data: bytes):
    try:
        return "value", repr(parse(data))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and json.JSONDecodeError are ValueErrors
        return type(error).__name__, str(error)


@pytest.mark.parametrize("index", range(len(DOCUMENTS)))
def test_a_file_is_parsed_as_json_parses_it_read_as_text(codec, index, tmp_path):
    """The same value, or the same error (line and column as read_text's universal newlines give them)."""
    path = tmp_path / "web01.json"
    path.write_bytes(DOCUMENTS[index])
    read_as_text = outcome(lambda _data: json.loads(path.read_text(encoding="utf-8")), b"")
    assert outcome(codec.parse_file_bytes, path.read_bytes()) == read_as_text


def test_integers_too_long_for_orjson_stay_integers(codec):
    value = codec.parse_file_bytes(b'{"flags_value": 36893488147419103232, "id": "x1234567890123456789"}')
    assert value == {"flags_value": 2 ** 65, "id": "x1234567890123456789"}
    assert isinstance(value["flags_value"], int)


class TextOfAnsible(str):
    """As Ansible's tagged or unsafe text: a str subclass (what report mode gets from hostvars)."""


class NumberOfAnsible(int):
    pass


class MappingOfAnsible(dict):
    pass


class ListOfAnsible(list):
    pass


def test_subclasses_of_text_numbers_mappings_and_lists_are_written_as_json_writes_them(codec):
    value = MappingOfAnsible(name=TextOfAnsible("contentSync"), flags_value=NumberOfAnsible(3),
                             flags=ListOfAnsible([TextOfAnsible("local_file")]), client_certificate=False)
    assert codec.indented(value) == json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)
    assert codec.compact(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_subclasses_take_the_fast_path(monkeypatch):
    """Report mode's values are Ansible's subclasses: they must not all fall back to json."""
    monkeypatch.setattr(json_text.json, "dumps", None)
    monkeypatch.setattr(json_text, "_compact_json", None)
    value = MappingOfAnsible(name=TextOfAnsible("job"), flags=ListOfAnsible([NumberOfAnsible(1)]))
    assert json_text.indented(value) == '{\n  "flags": [\n    1\n  ],\n  "name": "job"\n}'
    assert json_text.compact(value) == '{"name":"job","flags":[1]}'


def test_ansible_tagged_values_are_written_as_json_writes_them(codec):
    """ansible-core 2.19 and later tag the values templating gives (subclasses of str, int, dict, list)."""
    origin = pytest.importorskip("ansible._internal._datatag._tags").Origin(path="/etc/ansible/hosts", line_num=1)
    value = {"name": origin.tag("job"), "flags_value": origin.tag(3), "flags": origin.tag(["network"]),
             "caller": origin.tag({"sid": "S-1-5-18"})}
    assert value["name"].__class__ is not str  # the point: a subclass
    assert codec.indented(value) == json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)
    assert codec.compact(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
