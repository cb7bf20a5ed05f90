"""The HTML job table's data (html.TableBuilder, html.table_data) against the plain builder it replaced.

The table is built fast: a row's shape found by the job's raw fields (html._Shapes), details built
only from the fields that are set (html._detail), the files written in batches (html._JsonItemsFile).
Each of these must give the very data the plain builder gave, kept here as the oracle (the
builder as it was before, step by step), over random jobs with hostile, empty and missing values in
every field and every status.
"""
from __future__ import annotations

import json
import random
import typing as t
from pathlib import Path

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._report import html
from ansible_collections.winbits.bits.plugins.plugin_utils._report.html import (
    COMPACT_STATUSES,
    HOST_MARK,
    ID_MARK,
    KEEP_COMPACT_IDS_UP_TO,
    ROW_FIELDS,
    TableBuilder,
    table_data,
    table_pieces,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._report.text import (
    describe_account,
    describe_expected,
    describe_flags,
    describe_job_error,
    describe_read_error,
    describe_waiver,
    visible_or_none,
    visible_text,
)
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import guid, job, table_rows

JOB_STATUSES = ("compliant", "violation", "waived", "unmanaged", "unassessed")


# --- The oracle: the table builder before it was made fast, one job at a time. ---

class OracleInterner:
    def __init__(self) -> None:
        self.strings: list[t.Any] = []
        self.index: dict[t.Any, int] = {}
        self.shown_index: dict[t.Any, int | None] = {}

    def __call__(self, value: object) -> int | None:
        if value is None:
            return None
        text = value if isinstance(value, tuple) else str(value)
        if text not in self.index:
            self.index[text] = len(self.strings)
            self.strings.append(text)
        return self.index[text]

    def shown(self, value: str | None) -> int | None:
        if value is None:
            return None
        if value not in self.shown_index:
            self.shown_index[value] = self(visible_text(value))
        return self.shown_index[value]


def oracle_detail(job_: t.Mapping[str, t.Any]) -> dict[str, t.Any] | None:
    fix = job_.get("fix") or {}
    entries = {
        "problems": list(job_.get("problems") or []),
        "expected": describe_expected(job_.get("expected")) if job_.get("status") in ("violation", "waived") else "",
        "fix_task": fix.get("task"),
        "fix_command": fix.get("command"),
        "waiver": describe_waiver(job_),
        "expired_waivers": [f"{item.get('rule')}: {item.get('reason')} (expired {item.get('expires')})"
                            for item in job_.get("expired_waivers") or []],
        "job_error": describe_job_error(job_.get("error")),
        "read_error": describe_read_error(job_.get("read_error")),
    }
    return {key: value for key, value in entries.items() if value} or None


def oracle_detail_template(detail: t.Mapping[str, t.Any], job_id: object, host: object) -> str:
    text = json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for value, mark in ((job_id, ID_MARK), (host, HOST_MARK)):
        if isinstance(value, str) and value and visible_text(value) == value:
            text = text.replace(json.dumps(value, ensure_ascii=False)[1:-1], mark)
    return text


def oracle_table_data(report: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    intern, shape = OracleInterner(), OracleInterner()
    hosts: list[list[t.Any]] = []
    rows: list[list[t.Any]] = []
    ids: list[list[t.Any]] = []
    for host_index, entry in enumerate(report.get("hosts") or []):
        hosts.append([visible_or_none(entry.get("name")), intern(entry.get("status")),
                      visible_or_none(entry.get("reason"))])
        jobs = entry.get("jobs") or []
        if not jobs:
            status = "not_assessed" if entry.get("status") == "not_assessed" else "no_jobs"
            rows.append([host_index, None, None, shape((None, None, None, None, None, intern(status), None)), None])
        for job_ in jobs:
            status = job_.get("status")
            job_id = visible_or_none(job_.get("id"))
            detail = oracle_detail(job_)
            row = [
                host_index, None if status in COMPACT_STATUSES else job_id, intern.shown(job_.get("name")),
                shape((intern.shown(describe_account(job_.get("owner_name"), job_.get("owner")) or None),
                       intern.shown(job_.get("state")), intern.shown(job_.get("type")),
                       intern(describe_flags(job_.get("flags"))),
                       intern.shown(describe_account(job_.get("helper_token_name"),
                                                     job_.get("helper_token_sid")) or None),
                       intern(status), intern(job_.get("rule")))),
                None if detail is None else intern(oracle_detail_template(detail, job_.get("id"), entry.get("name"))),
            ]
            if status in COMPACT_STATUSES and job_id is not None:
                ids.append([len(rows), job_id])
            rows.append(row)
    block = {"strings": intern.strings, "hosts": hosts, "rows": rows,
             "shapes": [list(item) for item in shape.strings]}
    if len(rows) <= KEEP_COMPACT_IDS_UP_TO:
        block["ids"] = ids
    return {"fields": list(ROW_FIELDS), "blocks": [block]}


# --- Random hosts and jobs: every status, and hostile, empty or missing values in every field. ---

HOSTILE = [
    "", " ", "web01", "CORP\\alice", "NT AUTHORITY\\SYSTEM", "S-1-5-18", "S-1-5-21-1-2-3-1003", "SUSPENDED",
    "DOWNLOAD", "user-jobs", "content-sync", "<script>alert(1)</script>", "a & b 'c' \"d\"", "back\\slash",
    "new\nline\ttab", "exe.\u202etxt", "zero\u200bwidth", "\u00a0nbsp", "nul\x00", "lone \ud800 surrogate",
    ID_MARK, HOST_MARK, "\u0001", "\u2028", "Système", "0", "None", "null", "compliant", "local_file",
]


def text(rng: random.Random) -> str | None:
    return rng.choice(HOSTILE + [None, None])


def texts(rng: random.Random) -> list[str]:
    return [rng.choice(HOSTILE) for _number in range(rng.randrange(3))]


def random_mapping(rng: random.Random, keys: t.Sequence[str]) -> dict[str, t.Any]:
    return {key: text(rng) for key in keys if rng.random() < 0.7}


def random_palette(rng: random.Random) -> dict[str, list[t.Any]]:
    """A few values for each field of a report's jobs: jobs then share some fields and differ in others,
    so that shapes and details are found again as often as new ones are made."""
    palette: dict[str, list[t.Any]] = {key: [text(rng) for _number in range(3)]
                                       for key in ("name", "owner", "owner_name", "state", "type", "helper_token_name",
                                                   "helper_token_sid", "rule")}
    palette["flags"] = [None, [], ["local_file"], ["local_file", "network"], texts(rng)]
    palette["expected"] = [None, {}, {"flags": texts(rng)}, {"allowed_flags": texts(rng), "helper_token": text(rng)},
                           {"forbidden_flags": []}, {"unknown": 1}]
    palette["waiver"] = [None, {}, random_mapping(rng, ("reason", "expires")),
                         {**random_mapping(rng, ("reason", "expires")), "names_owner": rng.choice([True, False])}]
    palette["fix"] = [None, {}, random_mapping(rng, ("task", "command", "module"))]
    palette["expired_waivers"] = [None, [], [random_mapping(rng, ("rule", "reason", "expires"))
                                             for _number in range(rng.randrange(1, 3))]]
    palette["error"] = [None, {}, random_mapping(rng, ("name", "hresult_hex", "explanation", "description"))]
    palette["read_error"] = [None, {}, random_mapping(rng, ("call", "hresult_hex", "explanation"))]
    palette["problems"] = [None, [], texts(rng) or ["network is forbidden"], ["network is forbidden"]]
    palette["status"] = list(JOB_STATUSES)
    return palette


def random_job(rng: random.Random, palette: dict[str, list[t.Any]], number: int, host: str | None) -> dict[str, t.Any]:
    job_id = rng.choice([guid(number)] * 6 + [f"{{{host}}}", "exe.\u202etxt", ""])
    if host and rng.random() < 0.3:
        job_id = f"{job_id}{host}"    # a GUID with the host in it: the marks must still round-trip
    # Mostly each field's first value: many jobs then differ from another in one field or two.
    fields = {"id": job_id, **{key: values[0] if rng.random() < 0.7 else rng.choice(values)
                               for key, values in palette.items()}}
    # A job read back from an older report may lack any field but its GUID.
    return {key: value for key, value in fields.items() if key == "id" or rng.random() < 0.95}


def random_report(rng: random.Random, hosts: int) -> dict[str, t.Any]:
    palette = random_palette(rng)
    entries = []
    for number in range(hosts):
        name = rng.choice([f"web{number:02d}", f"web{number:02d}", text(rng) or "x", "<b>host</b>", "h\u200b"])
        jobs = [random_job(rng, palette, number * 10 + index, name) for index in range(rng.choice([0, 1, 3, 6]))]
        entries.append({"name": name, "status": rng.choice(["compliant", "noncompliant", "not_assessed"]),
                        "reason": text(rng), "jobs": jobs})
    return {"hosts": entries}


def streamed_json(report: t.Mapping[str, t.Any], directory: Path) -> str:
    """The table as the streamed writer writes it: TableBuilder host by host, the pieces joined.

    Lone surrogates pass through the files as they are, so that the text compares exactly.
    """
    names = ("hosts", "rows", "ids")
    builder = TableBuilder(*((directory / name).open("w", encoding="utf-8", errors="surrogatepass") for name in names))
    for entry in report["hosts"]:
        builder.host(entry)
    block = builder.close()
    return "".join(piece.read_text(encoding="utf-8", errors="surrogatepass") if isinstance(piece, Path) else piece
                   for piece in table_pieces([block]))


@pytest.mark.parametrize("seed", range(40))
def test_the_table_is_the_oracles_for_random_hostile_jobs(seed: int) -> None:
    report = random_report(random.Random(seed), 12)
    assert table_data(report) == oracle_table_data(report)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("batch", [1, 2, 7, 1000])
def test_the_streamed_table_is_the_oracles_text_in_any_batch_size(
        seed: int, batch: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html._JsonItemsFile, "WRITE_AFTER_ITEMS", batch)
    report = random_report(random.Random(1000 + seed), 9)
    assert streamed_json(report, tmp_path) == html._script_json(oracle_table_data(report))


# --- The shape cache: what makes two shapes differ must make them differ. ---

def plain_job(number: int, **changes: t.Any) -> dict[str, t.Any]:
    base = job(number, flags=["local_file"], status="compliant")
    base.update(changes)
    return base


SHAPE_CHANGES = [
    ("owner_name", "CORP\\alice"), ("owner_name", None), ("owner", "S-1-5-21-1-2-3-1003"), ("owner", None),
    ("state", "TRANSFERRING"), ("type", "UPLOAD"), ("flags", ["local_file", "network"]), ("flags", []),
    ("flags", None), ("helper_token_name", "CORP\\other"), ("helper_token_name", None),
    ("helper_token_sid", "S-1-5-21-9"), ("helper_token_sid", None), ("status", "unmanaged"), ("status", "violation"),
    ("rule", "user-jobs"), ("rule", None),
]


@pytest.mark.parametrize(("field", "value"), SHAPE_CHANGES)
def test_jobs_differing_in_one_shape_field_get_each_their_shape(field: str, value: t.Any) -> None:
    first, second = plain_job(1), plain_job(2, **{field: value})
    report = {"hosts": [{"name": "web01", "status": "compliant", "reason": None, "jobs": [first, second]}]}
    data = table_data(report)
    shapes = [row[ROW_FIELDS.index("shape")] for row in data["blocks"][0]["rows"]]
    assert shapes[0] != shapes[1]
    assert data == oracle_table_data(report)


def test_flags_unreadable_and_no_flags_are_two_shapes() -> None:
    """None (the host could not read them) and [] (none set) say different things: 'unreadable', 'none'."""
    report = {"hosts": [{"name": "web01", "status": "compliant", "reason": None,
                         "jobs": [plain_job(1, flags=None), plain_job(2, flags=[])]}]}
    assert [row["flags"] for row in table_rows(table_data(report))] == ["unreadable", "none"]
    assert table_data(report) == oracle_table_data(report)


def test_jobs_with_the_same_shape_fields_share_one_shape() -> None:
    report = {"hosts": [{"name": "web01", "status": "compliant", "reason": None,
                         "jobs": [plain_job(1), plain_job(2, name="other", flags=("local_file",))]}]}
    block = table_data(report)["blocks"][0]
    assert len(block["shapes"]) == 1 and len({row[3] for row in block["rows"]}) == 1


# --- Details: a compliant job shows whatever it has. ---

DETAIL_FIELDS = [
    ("problems", ["network is forbidden"], "problems"),
    ("fix", {"task": "- name: fix it\n", "command": "ansible web01 -m x"}, "fix_task"),
    ("waiver", {"reason": "CHG-1", "expires": "2027-01-01"}, "waiver"),
    ("expired_waivers", [{"rule": "user-jobs", "reason": "CHG-0", "expires": "2020-01-01"}], "expired_waivers"),
    ("error", {"name": "BG_E_X", "hresult_hex": "0x80200001"}, "job_error"),
    ("read_error", {"call": "GetOwner", "hresult_hex": "0x80070005"}, "read_error"),
]


@pytest.mark.parametrize("status", ["compliant", "unmanaged"])
@pytest.mark.parametrize(("field", "value", "shown_as"), DETAIL_FIELDS)
def test_a_compact_job_with_one_thing_to_show_keeps_its_detail(status: str, field: str, value: t.Any,
                                                               shown_as: str) -> None:
    report = {"hosts": [{"name": "web01", "status": "compliant", "reason": None,
                         "jobs": [plain_job(1, status=status, **{field: value}), plain_job(2, status=status)]}]}
    rows = table_rows(table_data(report))
    assert shown_as in (rows[0]["detail"] or {})
    assert rows[1]["detail"] is None
    assert table_data(report) == oracle_table_data(report)


@pytest.mark.parametrize("status", ["violation", "waived"])
def test_the_expected_flags_show_with_a_violation_or_waiver_even_without_problems(status: str) -> None:
    report = {"hosts": [{"name": "web01", "status": "noncompliant", "reason": None,
                         "jobs": [plain_job(1, status=status, problems=[],
                                            expected={"allowed_flags": ["local_file"]})]}]}
    assert table_rows(table_data(report))[0]["detail"] == {"expected": "allowed: local_file"}
    assert table_data(report) == oracle_table_data(report)


def test_a_compliant_job_with_fields_set_but_nothing_to_say_has_no_detail() -> None:
    quiet = plain_job(1, fix={"module": "winbits.bits.bits_helper_token"}, expected={"flags": ["local_file"]},
                      error={}, problems=[])
    report = {"hosts": [{"name": "web01", "status": "compliant", "reason": None, "jobs": [quiet]}]}
    assert table_rows(table_data(report))[0]["detail"] is None
    assert table_data(report) == oracle_table_data(report)


def test_a_fleet_written_over_many_batches_is_the_oracles_text(tmp_path: Path) -> None:
    """Many hosts over several batches: the streamed text and the oracle's are one."""
    rng = random.Random(7)
    report = {"hosts": [{"name": f"web{number:05d}", "status": "compliant", "reason": None,
                         "jobs": [plain_job(number * 5 + index, **dict([rng.choice(SHAPE_CHANGES)]),
                                            **({"problems": ["p"]} if rng.random() < 0.2 else {}))
                                  for index in range(5)]} for number in range(600)]}
    assert streamed_json(report, tmp_path) == html._script_json(oracle_table_data(report))


def test_printable_ascii_has_nothing_to_make_visible() -> None:
    """html._shown_guid leaves printable ASCII as it is without asking text.visible_text: true only while
    no printable ASCII character is one that visible_text shows otherwise."""
    printable = [character for character in map(chr, range(128)) if character.isprintable()]
    assert len(printable) == 95 and [visible_text(character) for character in printable] == printable


@pytest.mark.parametrize("value", [None, "", guid(1), "{5D3B4C39-1F0A-4D5B-9E2F-\u202e0000000001}", "a\x00b", "a\tb",
                                   "a\x7fb", "Système", "\ud800",
                                   "\u3164", "x\ufe0f", 7])
def test_a_guid_is_shown_as_visible_text_shows_it(value: object) -> None:
    assert html._shown_guid(value) == visible_or_none(value)
