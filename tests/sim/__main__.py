"""The simulated fleet's command line (the fleet file: tests/sim/README.md).

    python -m tests.sim start --fleet FILE --state-dir DIR [--pidfile FILE]
        serve the fleet on 127.0.0.1 (each host over its transport: winrm, psrp or ssh) and print its
        Ansible inventory (also written to DIR/inventory.ini);
        in the foreground until SIGINT/SIGTERM, or as a daemon when --pidfile is given
    python -m tests.sim stop --pidfile FILE
    python -m tests.sim inventory --state-dir DIR
        print the inventory of the fleet last started with that state dir
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from tests.sim.fleet import build_endpoints, inventory_ini, load_fleet
from tests.sim.winrm_server import FleetServer

INVENTORY_FILE = "inventory.ini"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "start":
        return _start(Path(args.fleet), Path(args.state_dir), Path(args.pidfile) if args.pidfile else None)
    if args.command == "stop":
        return _stop(Path(args.pidfile), args.timeout)
    return _print_inventory(Path(args.state_dir))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.sim", description="The simulated Windows fleet.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="serve a fleet file and print its inventory")
    start.add_argument("--fleet", required=True, help="fleet file (YAML)")
    start.add_argument("--state-dir", required=True, help="per-host state files, seeded on first start")
    start.add_argument("--pidfile", help="run as a daemon and write its pid here")
    stop = commands.add_parser("stop", help="stop a daemonised fleet")
    stop.add_argument("--pidfile", required=True)
    stop.add_argument("--timeout", type=float, default=10.0)
    inventory = commands.add_parser("inventory", help="print the inventory of a started fleet")
    inventory.add_argument("--state-dir", required=True)
    return parser


def _start(fleet_file: Path, state_dir: Path, pidfile: Path | None) -> int:
    hosts = load_fleet(fleet_file)
    if pidfile is not None:
        return _daemonise(lambda: _serve(hosts, state_dir, pidfile), state_dir)
    return _serve(hosts, state_dir, None)


def _serve(hosts, state_dir: Path, pidfile: Path | None) -> int:
    server = FleetServer(build_endpoints(hosts, state_dir))
    server.start()
    inventory = inventory_ini(hosts, {host.name: server.port_of(host.name) for host in hosts}, state_dir=state_dir)
    if pidfile is not None:
        pidfile.write_text(f"{os.getpid()}\n", encoding="utf-8")
    # Written last: a daemon's parent waits for this file, so the pidfile already exists then.
    (state_dir / INVENTORY_FILE).write_text(inventory, encoding="utf-8")
    if pidfile is None:
        sys.stdout.write(inventory)
        sys.stdout.flush()
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        stopping.wait()
    finally:
        server.stop()
        if pidfile is not None:
            pidfile.unlink(missing_ok=True)
    return 0


def _daemonise(serve, state_dir: Path) -> int:
    """Fork; the child serves, the parent waits for the inventory and prints it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    inventory_path = state_dir / INVENTORY_FILE
    inventory_path.unlink(missing_ok=True)
    if os.fork() == 0:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        code = 1
        try:
            code = serve()
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while not inventory_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not inventory_path.exists():
        sys.stderr.write("tests.sim: the fleet did not start within 60 s\n")
        return 1
    sys.stdout.write(inventory_path.read_text(encoding="utf-8"))
    return 0


def _stop(pidfile: Path, timeout: float) -> int:
    try:
        pid = int(pidfile.read_text().strip())
    except FileNotFoundError:
        sys.stderr.write(f"tests.sim: no pidfile {pidfile}: nothing to stop\n")
        return 1
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if pidfile.exists():
        sys.stderr.write(f"tests.sim: fleet {pid} did not stop within {timeout} s\n")
        return 1
    return 0


def _print_inventory(state_dir: Path) -> int:
    path = state_dir / INVENTORY_FILE
    if not path.exists():
        sys.stderr.write(f"tests.sim: no fleet was started with state dir {state_dir}\n")
        return 1
    sys.stdout.write(path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
