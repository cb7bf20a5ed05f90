"""Line coverage of the host-side C# by its Mono tests, with Mono's coverage profiler.

Run from the repository root:  .venv/bin/python -m tests.csharp.measure_coverage
Needs Debian's libmono-profiler (libmono-profiler-coverage.so). Prints the covered/total lines of
each util (BitsCom.cs, BitsHelperToken.cs, BitsJobInfo.cs) and the line numbers never run. The profiler lists every method of a loaded class,
run or not (counter 0), so methods no test calls count as uncovered rather than vanishing.
"""
from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree

from tests.support.mono import compile_cs
from tests.support.paths import BUILD, COM_CS, CORE_CS, JOB_INFO_CS, REPO

TEST_SOURCES = [REPO / "tests" / "csharp" / name
                for name in ("FakeBits.cs", "TestHarness.cs", "CoreTests.cs", "JobInfoTests.cs", "TokenTests.cs")]
MEASURED = (COM_CS, CORE_CS, JOB_INFO_CS)
PROFILER = Path("/usr/lib/libmono-profiler-coverage.so")


def measure() -> dict[Path, tuple[int, list[int]]]:
    """Return, per measured util, (covered line count, sorted uncovered line numbers)."""
    exe = compile_cs([*MEASURED, *TEST_SOURCES], "CoreTestsCoverage", extra_flags=("-debug",))
    report = BUILD / "cs" / "coverage.xml"
    done = subprocess.run(["mono", "--debug", f"--profile=coverage:output={report}", str(exe)],
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the tests failed under the profiler:\n{done.stdout}{done.stderr}")
    measured = {}
    for source in MEASURED:
        hits = _line_hits(report, source)
        measured[source] = (sum(1 for count in hits.values() if count > 0), sorted(n for n, c in hits.items() if c == 0))
    return measured


def _line_hits(report: Path, source: Path) -> dict[int, int]:
    """Highest statement counter per source line; a line counts as run when any statement on it ran."""
    hits: dict[int, int] = defaultdict(int)
    # iterparse reports only "end" events by default: a method's statements are all parsed by then.
    for event, element in ElementTree.iterparse(report):
        if event == "end" and element.tag == "method":
            if element.get("filename") == str(source):
                for statement in element.iter("statement"):
                    line = int(statement.get("line", "0"))
                    hits[line] = max(hits[line], int(statement.get("counter", "0")))
            element.clear()
    hits.pop(0, None)
    return hits


def main() -> None:
    if not PROFILER.exists():
        raise SystemExit(f"{PROFILER} is missing: apt-get install libmono-profiler")
    for source, (covered, uncovered) in measure().items():
        total = covered + len(uncovered)
        print(f"{source.relative_to(REPO)}: {covered}/{total} lines = {100.0 * covered / total:.1f}%")
        print("  never run: " + (", ".join(map(str, uncovered)) or "none"))


if __name__ == "__main__":
    sys.exit(main())
