#!/usr/bin/env bash
# The project's test command: set up what is missing, then run every test.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/setup.sh"
cd "$top"
exec "${WINBITS_VENV:-$top/.venv}/bin/python" -m pytest "$@"
