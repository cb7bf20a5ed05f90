#!/usr/bin/env bash
# Run the controller-side tests (end-to-end against the simulated fleet, the sim's and the plugins'
# unit tests) with another ansible-core than the project venv's, e.g. `bash scripts/compat.sh 2.16.19`.
# For maintainers, not part of scripts/test.sh (CI time). The venv lives in .build/compat-<version>/
# (gitignored) and is reused on the next run; extra arguments go to pytest.
# Needs the Debian packages of requirements/apt.txt (mono, mcs): run scripts/setup.sh once first.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  echo "usage: bash scripts/compat.sh ANSIBLE_CORE_VERSION [pytest args...]   (e.g. 2.18.19, or 2.17 for its newest)" >&2
  exit 2
}

[ $# -ge 1 ] || usage
version=$1
shift
[[ $version =~ ^2\.([0-9]+)(\.[0-9]+)?$ ]] || usage
minor=${BASH_REMATCH[1]}

# Controller Pythons each ansible-core line supports (its support matrix; pip alone would not stop
# 2.16 from installing on 3.13), newest first: the newest one found is used.
supported_pythons() {
  case $1 in
    16|17) echo "3.12 3.11 3.10" ;;
    18|19) echo "3.13 3.12 3.11" ;;
    20|21) echo "3.14 3.13 3.12" ;;
    *) echo "compat: no known controller Python for ansible-core 2.$1 (set WINBITS_COMPAT_PYTHON)" >&2; return 1 ;;
  esac
}

pick_python() {
  if [ -n "${WINBITS_COMPAT_PYTHON:-}" ]; then
    echo "$WINBITS_COMPAT_PYTHON"
    return 0
  fi
  local pythons wanted candidate pyenv_pythons
  pythons=$(supported_pythons "$minor") || return 1
  for wanted in $pythons; do
    # pyenv's builds of that Python, newest first (an unmatched pattern stays as is and fails -x below).
    mapfile -t pyenv_pythons < <(printf '%s\n' "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$wanted".*/bin/python3 | sort -V -r)
    for candidate in "${pyenv_pythons[@]}" "$(command -v python"$wanted" 2>/dev/null || true)"; do
      [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  done
  echo "compat: none of Python $pythons found for ansible-core $version (set WINBITS_COMPAT_PYTHON)" >&2
  return 1
}

# A full version pins it; 2.N takes the newest release of that line.
if [[ $version == *.*.* ]]; then requirement="ansible-core==$version"; else requirement="ansible-core==$version.*"; fi
venv=$top/.build/compat-$version

installed_version() {
  "$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)' 2>/dev/null || true
}

make_venv() {
  local python requirements
  if [ -x "$venv/bin/python" ] && [[ "$(installed_version)" == "$version"* ]]; then
    return 0
  fi
  python=$(pick_python)
  rm -rf "$venv"
  echo "compat: creating $venv with $python ($("$python" --version))"
  "$python" -m venv "$venv"
  # The project's pins, less its own ansible-core and the release, docs and ecosystem tooling these
  # tests do not use (tests/ecosystem and scripts/docs.sh run with the project's venv only; ansible-lint
  # and molecule 26 refuse ansible-core 2.17).
  requirements=$top/.build/compat-$version.requirements.txt
  grep -v -E '^\s*(#|$)|^(ansible-core|antsibull-changelog|antsibull-docs|sphinx|sphinx-ansible-theme|ansible-pygments|galaxy-importer|ansible-lint|ansible-builder|ansible-runner|molecule)\b' \
      "$top/requirements/test.txt" > "$requirements"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$requirement" -r "$requirements"
}

if ! command -v mcs >/dev/null || ! command -v mono >/dev/null; then
  echo "compat: mono and mcs are missing: run bash scripts/setup.sh first" >&2
  exit 1
fi
make_venv
echo "compat: ansible-core $(installed_version) on $("$venv/bin/python" --version)"
cd "$top"
# tests/e2e/conftest.py runs the ansible CLIs next to this interpreter, i.e. the compat venv's.
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/e2e tests/sim/tests tests/unit/plugins "$@"
