"""Evaluation and report writing at fleet scale: 10,000 hosts x 5 jobs by default. Prints figures only.

    python -m tests.benchmark.report_benchmark [--hosts N] [--jobs N] [--out DIR] [--browser]
                                               [--assessment-only]

Targets: evaluating the policy over synthetic bits_job_info results
(tests/benchmark/policy_benchmark.py's, 1% of the hosts unreachable) plus build_report and the four
formats in at most 5 s and 500 MB peak memory on a 2-core machine, the HTML at most 10 MB and still
usable in Chromium (--browser times a sort and a text filter of the job table there).
--assessment-only skips the evaluation and writes a hand-built assessment
(tests/unit/utils/bits_report_assessment).
"""
from __future__ import annotations

import argparse
import datetime
import gc
import resource
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from tests.support.paths import collections_root

if str(collections_root()) not in sys.path:
    sys.path.insert(0, str(collections_root()))

from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import (  # noqa: E402
    build_report,
    render_reports,
    write_files,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._policy import (  # noqa: E402
    evaluate_fleet,
    load_policy,
)
from tests.benchmark.policy_benchmark import POLICY, synthetic_results  # noqa: E402
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import synthetic_assessment  # noqa: E402

TARGET_SECONDS = 5.0
TARGET_PEAK_MB = 500.0
TARGET_HTML_MB = 10.0


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def mark(value: float, target: float) -> str:
    return "within target" if value <= target else "OVER TARGET"


def fleet_results(hosts: int, jobs: int) -> dict[str, t.Any]:
    """Synthetic registered results, 20% of the jobs violating, every hundredth host unreachable."""
    results: dict[str, t.Any] = synthetic_results(hosts, jobs, violating=0.2)
    for name in list(results)[::100]:
        results[name] = {"unreachable": True, "changed": False, "msg": "Failed to connect to the host via winrm"}
    return results


def write_report(hosts: int, jobs: int, out: Path, evaluate: bool) -> Path:
    results = fleet_results(hosts, jobs) if evaluate else None
    assessment = None if evaluate else synthetic_assessment(hosts, jobs)
    gc.collect()
    before = peak_rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    stages = {}
    if results is not None:
        stage = time.perf_counter()
        assessment = evaluate_fleet(load_policy(POLICY), results, today=datetime.date(2026, 11, 21))
        stages["evaluate"] = time.perf_counter() - stage
    report = build_report(assessment, generated_at=datetime.datetime.now(datetime.timezone.utc), previous=None)
    files = []
    for name in ("json", "csv", "junit", "html"):
        stage = time.perf_counter()
        files += render_reports(report, out, [name])
        stages[name] = time.perf_counter() - stage
    stage = time.perf_counter()
    write_files(files)
    stages["write"] = time.perf_counter() - stage
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = peak_rss_mb()
    summary = report["summary"]
    print(f"fleet: {summary['hosts']['total']} hosts, {summary['jobs']['total']} jobs "
          f"({summary['jobs']['violation']} violations, {summary['hosts']['not_assessed']} hosts not assessed)")
    what = "evaluate_fleet + build_report + 4 formats" if evaluate else "build_report + 4 formats"
    print(f"{what}: wall {wall:.2f} s, CPU {cpu:.2f} s  [{mark(wall, TARGET_SECONDS)}: {TARGET_SECONDS} s]")
    print("  " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stages.items()))
    print(f"peak RSS of the process: {peak:.0f} MB (after building the synthetic input: {before:.0f} MB) "
          f"[{mark(peak, TARGET_PEAK_MB)}: {TARGET_PEAK_MB:.0f} MB]")
    for rendered in files:
        size = rendered.path.stat().st_size / 1e6
        note = f" [{mark(size, TARGET_HTML_MB)}: {TARGET_HTML_MB:.0f} MB]" if rendered.format == "html" else ""
        print(f"  {rendered.path.name}: {size:.2f} MB{note}")
    return out / "bits-compliance.html"


def time_in_browser(html: Path, host_name: str) -> None:
    """Open the report in headless Chromium and time load, a sort and a text filter on one host's name."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  (optional part)

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(profile, executable_path="/usr/bin/chromium",
                                                            headless=True, args=args)
        page = context.new_page()
        started = time.perf_counter()
        page.goto(html.as_uri())
        page.wait_for_selector("html[data-ready=true]", timeout=120_000)
        print(f"chromium: load and first render {time.perf_counter() - started:.2f} s")
        timings: dict[str, t.Any] = page.evaluate("""() => {
            const time = (action) => { const t0 = performance.now(); action(); return performance.now() - t0; };
            const sort = time(() => document.querySelector('button[data-sort=host]').click());
            const sortAgain = time(() => document.querySelector('button[data-sort=name]').click());
            const chip = time(() => document.querySelector('button[data-status-filter=violation]').click());
            document.querySelector('button[data-status-filter=all]').click();
            return {sort, sortAgain, chip};
        }""")
        page.fill("#filter-text", host_name)
        started = time.perf_counter()
        # Polled from here: the report's CSP forbids the string evaluation that wait_for_function uses.
        while "match" not in (page.text_content("#match-count") or "") and time.perf_counter() - started < 60:
            time.sleep(0.005)
        filtered = time.perf_counter() - started
        print(f"chromium: sort by host {timings['sort']:.0f} ms, sort by job {timings['sortAgain']:.0f} ms, "
              f"status filter {timings['chip']:.0f} ms, text filter {filtered * 1000:.0f} ms "
              f"(incl. the 120 ms typing pause): {page.text_content('#match-count')}")
        context.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=5, help="jobs per host")
    parser.add_argument("--out", type=Path, help="directory for the report (default: a temporary one)")
    parser.add_argument("--browser", action="store_true", help="also time a sort and a filter in Chromium")
    parser.add_argument("--assessment-only", action="store_true",
                        help="write a hand-built assessment instead of evaluating the policy over results")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        html = write_report(options.hosts, options.jobs, options.out or Path(scratch), not options.assessment_only)
        if options.browser:
            time_in_browser(html, "win00042" if options.assessment_only else "web00042")


if __name__ == "__main__":
    main()
