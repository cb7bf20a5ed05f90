"""The fleet report at scale, as `aggregate` makes it: per-host result files on disk -> every format.

    python -m tests.benchmark.report_benchmark [--hosts 10000,50000,100000] [--jobs 5] [--drift]
                                               [--workers N] [--without-orjson] [--browser] [--keep DIR]

For each fleet size, synthetic bits_job_info results (tests/benchmark/policy_benchmark.py's, 20% of
the jobs violating, every hundredth host unreachable) are saved one file per host, as mode
host_results saves them. A fresh Python process then reads that directory one file at a time,
evaluates the policy host by host and writes every format (ResultsListing + assess_and_write, what
mode aggregate runs, with --workers processes: 0, the default, is one per CPU); its wall time, CPU
time and peak RSS are measured alone, apart from the making of the input. CPU and RSS count the
worker processes too: CPU is their sum, and peak RSS the sum of each process's peak (an upper
bound of what the processes held at once). --drift measures a second run that compares with the
first run's report. The report's JSON is written through orjson where it is installed (as the
project's test requirements install it); --without-orjson measures as a user without it. The figures
are printed side by side, with the targets:

- 100,000 hosts x 5 jobs: at most 10 s wall and 1 GB peak RSS; 10,000 hosts: 2 s and 300 MB;
- the HTML at most 20 MB at 100,000 hosts; --browser opens the largest HTML in headless Chromium
  and times the summary, a sort and the filters (targets: summary 2 s after load, 200 ms each).

Prints figures only; not a timed test.
"""
from __future__ import annotations

import argparse
import datetime
import json
import resource
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from tests.support.paths import REPO, collections_root

if str(collections_root()) not in sys.path:
    sys.path.insert(0, str(collections_root()))

from ansible_collections.winbits.bits.plugins.plugin_utils._policy import load_policy  # noqa: E402
from ansible_collections.winbits.bits.plugins.plugin_utils._report import json_text  # noqa: E402
from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import (  # noqa: E402
    FILE_NAMES,
    FORMATS,
    PolicyEvaluation,
    assess_and_write,
    load_previous_index,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._report.host_results import (  # noqa: E402
    ResultsListing,
    render_result_file,
    result_file_name,
)
from ansible_collections.winbits.bits.plugins.plugin_utils._report.shards import (  # noqa: E402
    MIN_HOSTS_PER_AUTO_WORKER,
    available_cpus,
)
from tests.benchmark.policy_benchmark import POLICY, synthetic_results  # noqa: E402

TODAY = datetime.date(2026, 11, 21)
# hosts -> (wall seconds, peak RSS MB); the HTML's size at the largest.
TARGETS = {10_000: (2.0, 300.0), 100_000: (10.0, 1000.0)}
TARGET_HTML_MB = 20.0
TARGET_SUMMARY_S = 2.0
TARGET_INTERACTION_MS = 200.0


def save_results(hosts: int, jobs: int, directory: Path) -> None:
    """The synthetic fleet's results, one file per host (in this process, which is not measured)."""
    directory.mkdir(parents=True, exist_ok=True)
    for number, (name, result) in enumerate(synthetic_results(hosts, jobs, violating=0.2).items()):
        if number % 100 == 0:
            result = {"unreachable": True, "changed": False, "msg": "Failed to connect to the host via winrm"}
        (directory / result_file_name(name)).write_text(render_result_file(name, result), encoding="utf-8")


def _cpu_seconds() -> float:
    """CPU time of this process and of its ended children."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def measure(results: Path, out: Path, previous: Path | None, workers: int) -> dict[str, t.Any]:
    """Run in a fresh process: aggregate ``results`` into ``out``; the figures as a mapping."""
    policy = load_policy(POLICY)
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    index = load_previous_index(previous) if previous is not None else None
    listing = ResultsListing(results)
    report, files = assess_and_write(
        PolicyEvaluation(policy, TODAY), listing.items, out, FORMATS,
        generated_at=datetime.datetime.now(datetime.timezone.utc), previous=index, read=listing.read,
        workers=workers)
    wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    # ru_maxrss: of this process, and the largest of its children (the workers are alike).
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    workers_started = max(1, min(workers or available_cpus(), len(listing.items) // MIN_HOSTS_PER_AUTO_WORKER))
    return {
        "wall": wall, "cpu": cpu, "peak_mb": (peak_kb + children * (workers_started - 1)) / 1024.0,
        "workers": workers_started,
        "hosts": report["summary"]["hosts"]["total"], "jobs": report["summary"]["jobs"]["total"],
        "violations": report["summary"]["jobs"]["violation"],
        "drift": None if report["drift"] is None else {key: len(value) for key, value in report["drift"].items()
                                                       if isinstance(value, list)},
        "sizes": {written.format: written.path.stat().st_size / 1e6 for written in files},
        "json_library": "json" if json_text.orjson is None else f"orjson {json_text.orjson.__version__}",
    }


# The measuring process as a user without orjson runs it: the import fails, json_text uses json.
_WITHOUT_ORJSON = "import sys; sys.modules['orjson'] = None; from tests.benchmark.report_benchmark import main; main()"


def run_measurement(results: Path, out: Path, previous: Path | None, workers: int,
                    with_orjson: bool = True) -> dict[str, t.Any]:
    command = [sys.executable, *(["-m", "tests.benchmark.report_benchmark"] if with_orjson else ["-c", _WITHOUT_ORJSON]),
               "--measure", str(results), "--out", str(out), "--workers", str(workers)]
    if previous is not None:
        command += ["--previous", str(previous)]
    finished = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True)
    return json.loads(finished.stdout.strip().splitlines()[-1])


def verdict(hosts: int, figures: dict[str, t.Any]) -> str:
    target = TARGETS.get(hosts)
    if target is None:
        return ""
    wall = "within" if figures["wall"] <= target[0] else "OVER"
    memory = "within" if figures["peak_mb"] <= target[1] else "OVER"
    return f"wall {wall} {target[0]:.0f} s, memory {memory} {target[1]:.0f} MB"


def print_table(rows: list[tuple[str, int, dict[str, t.Any]]]) -> None:
    header = ["run", "hosts", "jobs", "workers", "wall s", "CPU s", "peak RSS MB"] + [FILE_NAMES[name] for name in FORMATS] + ["target"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label, hosts, figures in rows:
        sizes = [f"{figures['sizes'].get(name, 0):.1f} MB" for name in FORMATS]
        print("| " + " | ".join([label, f"{hosts:,}", f"{figures['jobs']:,}", str(figures["workers"]), f"{figures['wall']:.2f}",
                                 f"{figures['cpu']:.2f}", f"{figures['peak_mb']:.0f}", *sizes,
                                 verdict(hosts, figures) if label == "aggregate" else ""]) + " |")
    largest = max(rows, key=lambda row: row[1])
    html = largest[2]["sizes"].get("html", 0)
    print(f"HTML at {largest[1]:,} hosts: {html:.1f} MB [{'within' if html <= TARGET_HTML_MB else 'OVER'} "
          f"{TARGET_HTML_MB:.0f} MB]")


def time_in_browser(html: Path, host_name: str) -> None:
    """Open the report in headless Chromium: time the summary, a sort, a status filter and a text filter."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  (optional part)

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(profile, executable_path="/usr/bin/chromium",
                                                            headless=True, args=args)
        page = context.new_page()
        started = time.perf_counter()
        page.goto(html.as_uri(), wait_until="commit")
        page.wait_for_selector("#host-compliance", timeout=120_000)
        summary = time.perf_counter() - started
        page.wait_for_selector("html[data-ready=true]", timeout=120_000)
        ready = time.perf_counter() - started
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
        print(f"chromium ({html.stat().st_size / 1e6:.1f} MB): summary shown {summary:.2f} s "
              f"[target {TARGET_SUMMARY_S} s], table ready {ready:.2f} s; sort by host {timings['sort']:.0f} ms, "
              f"sort by job {timings['sortAgain']:.0f} ms, status filter {timings['chip']:.0f} ms, text filter "
              f"{filtered * 1000:.0f} ms incl. the 120 ms typing pause [target {TARGET_INTERACTION_MS:.0f} ms]: "
              f"{page.text_content('#match-count')}")
        context.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default="10000,50000,100000", help="fleet sizes, comma-separated")
    parser.add_argument("--jobs", type=int, default=5, help="jobs per host")
    parser.add_argument("--drift", action="store_true", help="also measure a run compared with the first")
    parser.add_argument("--workers", type=int, default=0, help="processes (0: one per CPU, as the action's default)")
    parser.add_argument("--without-orjson", action="store_true",
                        help="measure as without orjson installed (the report's JSON through the json module)")
    parser.add_argument("--browser", action="store_true", help="time the largest HTML in Chromium")
    parser.add_argument("--keep", type=Path, help="directory for the inputs and reports (default: temporary)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--previous", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.measure is not None:
        print(json.dumps(measure(options.measure, options.out, options.previous, options.workers)))
        return
    rows: list[tuple[str, int, dict[str, t.Any]]] = []
    with tempfile.TemporaryDirectory() as scratch:
        root = options.keep or Path(scratch)
        for hosts in [int(value) for value in options.hosts.split(",")]:
            results, out = root / f"results-{hosts}", root / f"report-{hosts}"
            if not results.is_dir():
                save_results(hosts, options.jobs, results)
            rows.append(("aggregate", hosts, run_measurement(results, out, None, options.workers,
                                                             not options.without_orjson)))
            if options.drift:
                previous = root / f"previous-{hosts}.json"
                previous.write_bytes((out / FILE_NAMES["json"]).read_bytes())
                rows.append(("with drift", hosts, run_measurement(results, out, previous, options.workers,
                                                                  not options.without_orjson)))
            print(f"{hosts:,} hosts measured", file=sys.stderr)
        print(f"python -m tests.benchmark.report_benchmark --hosts {options.hosts} --jobs {options.jobs} "
              f"--workers {options.workers}" + (" --drift" if options.drift else "")
              + (" --without-orjson" if options.without_orjson else ""))
        print(f"report JSON written with: {rows[0][2]['json_library']}")
        print_table(rows)
        if options.browser:
            largest = max(rows, key=lambda row: row[1])[1]
            time_in_browser(root / f"report-{largest}" / FILE_NAMES["html"], "web00042")


if __name__ == "__main__":
    main()
