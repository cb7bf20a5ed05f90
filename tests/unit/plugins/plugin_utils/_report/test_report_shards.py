"""The report written by several processes, each a slice of the hosts: the same report as one process writes."""
from __future__ import annotations

import datetime
import json
import os
import re
from pathlib import Path

import pytest

from ansible_collections.winbits.bits.plugins.plugin_utils._policy import load_policy
from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import (
    FILE_NAMES,
    FORMATS,
    PolicyEvaluation,
    assess_and_write,
    load_previous_index,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._report.host_results import (
    ResultsError,
    ResultsListing,
    render_result_file,
    result_file_name,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._report.shards import (
    MIN_HOSTS_PER_AUTO_WORKER,
    SliceError,
    run_slices,
    slice_bounds,
    worker_count,
)
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import table_rows
from ansible_collections.winbits.bits.tests.unit.utils.report_fleet import POLICY, fleet

NOW = datetime.datetime(2026, 11, 21, 8, 15, tzinfo=datetime.timezone.utc)
TODAY = datetime.date(2026, 11, 21)


def save(results: dict[str, dict | None], directory: Path) -> Path:
    directory.mkdir()
    for name, result in results.items():
        if result is not None:
            (directory / result_file_name(name)).write_text(render_result_file(name, result), encoding="utf-8")
    return directory


def aggregate(directory: Path, dest: Path, workers: int, previous: Path | None = None,
              hosts: tuple[str, ...] = ()) -> tuple[dict, list]:
    listing = ResultsListing(directory, hosts)
    return assess_and_write(PolicyEvaluation(load_policy(POLICY), TODAY), listing.items, dest, FORMATS,
                            generated_at=NOW, previous=load_previous_index(previous) if previous else None,
                            read=listing.read, workers=workers)


def page_without_data(html: str) -> str:
    return re.sub(r'<script type="application/json" id="report-data">.*?</script>', "", html, flags=re.S)


def table_of(html: str) -> dict:
    [data] = re.findall(r'<script type="application/json" id="report-data">(.*?)</script>', html, flags=re.S)
    return json.loads(data)


def test_the_slices_cover_the_hosts_in_order_and_differ_by_one_at_most() -> None:
    for total in (0, 1, 7, 24, 1001):
        for slices in (1, 2, 3, 8):
            bounds = slice_bounds(total, slices)
            assert len(bounds) == slices and bounds[0][0] == 0 and bounds[-1][1] == total
            assert all(before[1] == after[0] for before, after in zip(bounds, bounds[1:]))
            sizes = [stop - start for start, stop in bounds]
            assert max(sizes) - min(sizes) <= 1


def test_workers_are_one_per_cpu_for_large_fleets_and_as_many_as_asked_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible_collections.winbits.bits.plugins.plugin_utils._report import shards

    monkeypatch.setattr(shards, "available_cpus", lambda: 4)
    assert worker_count(0, MIN_HOSTS_PER_AUTO_WORKER - 1) == 1
    assert worker_count(0, 2 * MIN_HOSTS_PER_AUTO_WORKER) == 2
    assert worker_count(0, 100 * MIN_HOSTS_PER_AUTO_WORKER) == 4
    assert worker_count(3, 10) == 3
    assert worker_count(8, 5) == 5
    assert worker_count(1, 10 ** 6) == 1
    assert worker_count(4, 0) == 1


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_a_report_written_in_slices_is_the_report_of_one_process(tmp_path: Path, workers: int) -> None:
    directory = save(fleet(), tmp_path / "results")
    previous_dir = save(fleet(shift=1), tmp_path / "previous-results")
    aggregate(previous_dir, tmp_path / "before", 1)
    previous = tmp_path / "before" / FILE_NAMES["json"]
    # The hosts of the inventory, some without a result file, and one that is in no file at all.
    hosts = (*fleet(), "web99-never-reported")
    one_head, one_files = aggregate(directory, tmp_path / "one", 1, previous, hosts)
    many_head, many_files = aggregate(directory, tmp_path / "many", workers, previous, hosts)

    assert many_head == one_head
    assert one_head["summary"]["hosts"]["total"] == 25
    assert any(one_head["drift"][kind] for kind in ("became_noncompliant", "fixed"))
    assert all(waiver["used"] for waiver in one_head["waivers"])
    assert [file.format for file in many_files] == [file.format for file in one_files]
    for name in ("json", "csv", "junit", "jsonl"):
        assert (tmp_path / "many" / FILE_NAMES[name]).read_bytes() == (tmp_path / "one" / FILE_NAMES[name]).read_bytes()
    one_html = (tmp_path / "one" / FILE_NAMES["html"]).read_text(encoding="utf-8")
    many_html = (tmp_path / "many" / FILE_NAMES["html"]).read_text(encoding="utf-8")
    assert page_without_data(many_html) == page_without_data(one_html)
    assert len(table_of(one_html)["blocks"]) == 1 and len(table_of(many_html)["blocks"]) == workers
    assert table_rows(table_of(many_html)) == table_rows(table_of(one_html))
    # Nothing of the slices is left beside the report.
    assert sorted(path.name for path in (tmp_path / "many").iterdir()) == sorted(FILE_NAMES.values())


def test_a_bad_file_in_a_workers_slice_fails_the_report_naming_it_and_keeps_the_previous_set(tmp_path: Path) -> None:
    directory = save(fleet(), tmp_path / "results")
    aggregate(directory, tmp_path / "report", 1)
    before = {path.name: path.read_bytes() for path in (tmp_path / "report").iterdir()}
    bad = directory / result_file_name("web22")
    bad.write_text('{"winbits_bits_host_result": 1, "host": "web22", "result": {"jobs": 7}}', encoding="utf-8")
    with pytest.raises(ResultsError, match=re.escape(str(bad)) + ": result.jobs: is int, not a list"):
        aggregate(directory, tmp_path / "report", 3)
    assert {path.name: path.read_bytes() for path in (tmp_path / "report").iterdir()} == before


def test_an_error_in_any_slice_is_raised_here_and_the_results_come_in_slice_order() -> None:
    assert run_slices(lambda part: part * 10 + os.getpid() * 0, 4) == [0, 10, 20, 30]
    # The children are other processes.
    pids = run_slices(lambda part: os.getpid(), 3)
    assert pids[0] == os.getpid() and len(set(pids)) == 3

    def fails_in_slice_two(part: int) -> int:
        if part == 2:
            raise ResultsError("results/web07.json: not a host result")
        return part

    with pytest.raises(ResultsError, match="web07.json: not a host result"):
        run_slices(fails_in_slice_two, 3)


def test_a_worker_that_dies_is_an_error_not_a_missing_slice() -> None:
    def dies_in_slice_one(part: int) -> int:
        if part == 1:
            os._exit(3)
        return part

    with pytest.raises(SliceError, match="slice 1 of the report ended without its result \\(exit code 3\\)"):
        run_slices(dies_in_slice_one, 2)


def test_a_failure_here_stops_the_workers(tmp_path: Path) -> None:
    marker = tmp_path / "finished"

    def slow_child(part: int) -> int:
        if part == 0:
            raise ValueError("slice 0 failed")
        import time
        time.sleep(30)
        marker.write_text("the child ran to its end")
        return part

    with pytest.raises(ValueError, match="slice 0 failed"):
        run_slices(slow_child, 2)
    assert not marker.exists()
