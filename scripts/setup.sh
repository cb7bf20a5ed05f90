#!/usr/bin/env bash
# Set up everything the tests need, from nothing: Debian packages, then a venv with the newest
# Python >= 3.12 that pyenv (or the system) offers, else 3.11, with the pinned requirements.
# Safe to run again: it skips what is already there.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv=${WINBITS_VENV:-$top/.venv}

missing_apt_packages() {
  local pkg
  grep -v -E '^\s*(#|$)' "$top/requirements/apt.txt" | while read -r pkg; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
  done
}

install_apt_packages() {
  local missing
  missing=$(missing_apt_packages)
  [ -z "$missing" ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "setup: installing Debian packages: $missing"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# Newest interpreter first: ansible-core 2.20+ needs 3.12+, 3.11 is the fallback.
pick_python() {
  local minor candidate
  for minor in 13 12 11; do
    for candidate in $(printf '%s\n' "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3."$minor".*/bin/python3 | sort -V -r) \
                     "$(command -v python3."$minor" 2>/dev/null || true)"; do
      [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  done
  echo "setup: no Python 3.11, 3.12 or 3.13 found" >&2
  return 1
}

make_venv() {
  if [ ! -x "$venv/bin/python" ]; then
    local python
    python=$(pick_python)
    echo "setup: creating $venv with $python ($("$python" --version))"
    "$python" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$top/requirements/test.txt"
}

# The collection where Ansible looks for it: .build/collections/ansible_collections/winbits/bits is a
# link to this repository (the molecule scenarios and the README's commands use that path).
link_collection() {
  (cd "$top" && "$venv/bin/python" -c 'from tests.support.paths import collections_root; collections_root()')
}

install_apt_packages
make_venv
link_collection
echo "setup: ready ($("$venv/bin/python" --version), ansible-core $("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)'))"
