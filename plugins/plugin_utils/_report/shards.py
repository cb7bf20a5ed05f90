# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet cut into slices of hosts, judged and written by several processes at once.

A fleet report's cost is Python code run for every job: reading its host's result, judging it,
writing it in five formats. At 100,000 hosts that is minutes of one core, so the controller's cores
share it: the hosts, in name order, are cut into contiguous slices, one per process; each process
writes its slice's part of every file (``stream.ReportStream``) and returns what the files' heads
need (counts, waiver use, drift); this process then assembles the parts in slice order. The files
are thus the same whatever the number of processes, but for the HTML table's data, which has one
block per slice (the page's script joins them).

The processes are forked, as Ansible's own workers are: a child starts with this process's memory
(the policy, the list of hosts, the previous report's index) and nothing is pickled but its result.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import typing as t

# Below this many hosts a slice costs more to start than it saves.
MIN_HOSTS_PER_AUTO_WORKER = 1000
# 0 asks for as many workers as the controller lets this process use.
AUTO_WORKERS = 0

T = t.TypeVar("T")


class SliceError(RuntimeError):
    """A worker process ended without giving its slice's result."""


def available_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_count(requested: int, hosts: int) -> int:
    """How many slices: ``requested`` (at most one per host), or for AUTO_WORKERS one per usable CPU
    while each gets at least MIN_HOSTS_PER_AUTO_WORKER hosts."""
    if requested == AUTO_WORKERS:
        return max(1, min(available_cpus(), hosts // MIN_HOSTS_PER_AUTO_WORKER))
    return max(1, min(requested, hosts))


def slice_bounds(total: int, slices: int) -> list[tuple[int, int]]:
    """``slices`` contiguous (start, stop) ranges of ``total`` items, as equal as can be, in order."""
    size, larger = divmod(total, slices)
    bounds, start = [], 0
    for number in range(slices):
        stop = start + size + (1 if number < larger else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def run_slices(work: t.Callable[[int], T], slices: int) -> list[T]:
    """``work(0)`` in this process and ``work(1)`` ... ``work(slices - 1)`` in forked children, at once.

    Returns their results in slice order. An exception in any slice is raised here (a child's as it
    was raised there, when it can be pickled); the other children are then stopped.
    """
    if slices <= 1:
        return [work(0)]
    context = multiprocessing.get_context("fork")
    children = [_start(context, work, part) for part in range(1, slices)]
    try:
        results = [work(0)]
        results.extend(_result(part, process, connection) for part, (process, connection) in enumerate(children, 1))
        return results
    finally:
        for process, connection in children:
            connection.close()
            if process.is_alive():
                process.terminate()
            process.join()


def _start(context: t.Any, work: t.Callable[[int], t.Any], part: int) -> tuple[t.Any, t.Any]:
    receiving, sending = context.Pipe(duplex=False)
    # Forked: the target and its arguments are not pickled, the child has them in its memory.
    process = context.Process(target=_child, args=(work, part, sending), name=f"bits-report-slice-{part}")
    process.start()
    sending.close()
    return process, receiving


def _child(work: t.Callable[[int], t.Any], part: int, connection: t.Any) -> None:
    # An Ansible worker traps these to stop its whole process group; this child just ends with them.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        outcome: tuple[str, t.Any] = ("ok", work(part))
    except BaseException as error:  # noqa: BLE001  (whatever it is, the parent raises it)
        outcome = ("error", error)
    try:
        connection.send(outcome)
    except Exception:  # noqa: BLE001  (an exception or result that does not pickle)
        connection.send(("error", SliceError(f"slice {part} of the report failed: {outcome[1]!r}")))
    connection.close()


def _result(part: int, process: t.Any, connection: t.Any) -> t.Any:
    try:
        status, value = connection.recv()
    except EOFError:
        process.join()
        raise SliceError(f"the worker process of slice {part} of the report ended without its result "
                         f"(exit code {process.exitcode})") from None
    if status == "error":
        raise value
    return value
