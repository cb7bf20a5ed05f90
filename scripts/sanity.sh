#!/usr/bin/env bash
# ansible-test sanity on this collection, for the tests that need no PowerShell.
#
# There is no pwsh on our machines (nor a Debian or PyPI package of it), so:
#   pslint           - skipped: PSScriptAnalyzer runs under pwsh;
#   validate-modules - runs on every module documented in Python (plugins/modules/*.py: the action-only
#                      modules), and not on the .ps1 ones: for those it starts pwsh to read the argument
#                      spec. tests/unit/test_module_spec.py compares that spec with the .yml
#                      documentation instead (tree-sitter-pwsh), and antsibull-docs lint
#                      (tests/ecosystem/test_docs_site.py) checks the .yml documentation itself.
# ansible-test wants a copy of the collection under ansible_collections/winbits/bits and downloads
# a get-pip.py from a host we cannot reach: scripts/get_pip_standin.py takes its place.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv=${WINBITS_VENV:-$top/.venv}
bash "$top/scripts/setup.sh" >/dev/null

python=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# The pip version ansible-test bootstraps into its venvs, asked of ansible-test itself.
pip_version=$("$venv/bin/python" - "$python" <<'PY'
import sys
from types import SimpleNamespace
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(SimpleNamespace(version=sys.argv[1]))["pip"])
PY
)
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
cp "$top/scripts/get_pip_standin.py" "$cache/get_pip_${pip_version//./_}.py"

# A clean copy of what git tracks (plus uncommitted edits), where ansible-test expects a collection.
copy=$top/.build/sanity/ansible_collections/winbits/bits
rm -rf "$copy"
mkdir -p "$copy"
(cd "$top" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$copy")
(cd "$copy" && git init -q && git add -A && git -c user.name=sanity -c user.email=sanity@localhost commit -qm sanity)

cd "$copy"
"$venv/bin/ansible-test" sanity --requirements --python "$python" \
    --skip-test pslint --skip-test validate-modules "$@"

mapfile -t python_modules < <(git ls-files 'plugins/modules/*.py')
[ "${#python_modules[@]}" -gt 0 ] || { echo "sanity: no Python-documented module to validate" >&2; exit 1; }
echo "sanity: validate-modules on ${python_modules[*]}"
exec "$venv/bin/ansible-test" sanity --requirements --python "$python" --test validate-modules "${python_modules[@]}"
