"""Glob matching of policy selectors against hostile names. Prints figures only.

    python -m tests.benchmark.glob_benchmark [--length N] [--names N]

A pattern such as ``*a*a*a*a*b`` made a backtracking regular expression try every placement of each
``a`` in a long name without the final ``b``. The selectors' matcher (plugins/plugin_utils/_policy/
model.py) finds each piece between stars once, left to right; this prints both, per name and for a
report's worth of names.
"""
from __future__ import annotations

import argparse
import re
import sys
import time

from tests.support.paths import collections_root

if str(collections_root()) not in sys.path:
    sys.path.insert(0, str(collections_root()))

from ansible_collections.winbits.bits.plugins.plugin_utils._policy.model import compile_globs  # noqa: E402

PATTERNS = ("*a*a*a*a*b", "*a?a*a?a*a?b", "*" + "a*" * 12 + "b")


def backtracking(pattern: str) -> re.Pattern[str]:
    """The regular expression the selectors used before (one ``.*`` per star)."""
    return re.compile("".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern),
                      re.DOTALL)


def timed(match: object, name: str, repeat: int) -> float:
    started = time.perf_counter()
    for _round in range(repeat):
        match(name)  # type: ignore[operator]
    return (time.perf_counter() - started) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=256, help="characters of the hostile name (default 256)")
    parser.add_argument("--names", type=int, default=5000, help="names in a report (default 5000)")
    parser.add_argument("--skip-regex", action="store_true", help="time the linear matcher only")
    options = parser.parse_args()
    name = "a" * options.length
    print(f"name: {options.length} x 'a' (no 'b'); per name, and for {options.names} such names")
    for pattern in PATTERNS:
        linear = timed(compile_globs([pattern]).fullmatch, name, 200)
        line = f"{pattern:<32} linear {linear * 1e6:9.1f} us  x{options.names}: {linear * options.names:7.3f} s"
        if not options.skip_regex and pattern.count("*") <= 5:
            regex = timed(backtracking(pattern).fullmatch, name, 1)
            line += f"   regex {regex * 1e3:9.1f} ms  x{options.names}: {regex * options.names:8.1f} s"
        print(line)


if __name__ == "__main__":
    main()
