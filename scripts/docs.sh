#!/usr/bin/env bash
# Build the collection's HTML documentation into .build/docs/build/html (or DIR/build/html), offline,
# the way Ansible collections build theirs: `antsibull-docs sphinx-init --use-current` writes a Sphinx
# project for the collection found on the collections path (.build/collections, linked to this
# checkout by the set-up script), then its build.sh runs `antsibull-docs collection` (a page per module
# and role, plus the guides of docs/docsite/extra-docs.yml) and `sphinx-build -W` (a warning fails).
# No network: intersphinx reads a local inventory of the Ansible labels the pages use
# (scripts/docs_inventory.py) instead of downloading one.
#
# Usage: bash scripts/docs.sh [DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv=${WINBITS_VENV:-$top/.venv}
out=${1:-$top/.build/docs}
bash "$top/scripts/setup.sh" >/dev/null

export PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$top/.build/collections"
rm -rf "$out"
# antsibull-docs wants its destination owned by the user and writable by nobody else.
mkdir -p "$out"
chmod 755 "$out"
antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error --dest-dir "$out" \
    --project winbits.bits --copyright "winbits.bits contributors" \
    --title "winbits.bits documentation" --html-short-title "winbits.bits" winbits.bits >/dev/null

"$venv/bin/python" "$top/scripts/docs_inventory.py" "$out/ansible_devel.inv"
cat >> "$out/conf.py" <<'CONF'

# Added by scripts/docs.sh: no inventory is downloaded; the Ansible labels resolve from a local one
# (paths are relative to the rst/ source directory).
intersphinx_mapping = {
    'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', '../ansible_devel.inv'),
}
CONF

bash "$out/build.sh"
echo "docs: $out/build/html/index.html"
