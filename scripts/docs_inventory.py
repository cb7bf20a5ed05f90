"""Write the intersphinx inventory of the Ansible docsite labels that the collection's pages refer to.

antsibull-docs' pages link to a few pages of the Ansible documentation by label (the common return
values, action plugins, the configuration settings). Sphinx resolves such labels through intersphinx,
which would download the Ansible docsite's inventory; scripts/docs.sh builds offline, so it gives
Sphinx this local inventory instead. A label missing here fails the build ('undefined label'): add it,
with the page and anchor it has on docs.ansible.com.

Usage: python scripts/docs_inventory.py OUTPUT.inv
"""
from __future__ import annotations

import sys
import zlib
from pathlib import Path

BASE = "https://docs.ansible.com/projects/ansible/devel/"
# label -> (page#anchor under BASE, title)
LABELS = {
    "action_plugins": ("plugins/action.html#action-plugins", "Action plugins"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings",
                                       "Ansible Configuration Settings"),
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values",
                             "Return Values"),
}


def inventory() -> bytes:
    """An intersphinx inventory (format version 2) with LABELS as std:label entries."""
    header = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n" \
             "# The remainder of this file is compressed using zlib.\n"
    entries = "".join(f"{label} std:label -1 {uri} {title}\n" for label, (uri, title) in sorted(LABELS.items()))
    return header.encode("utf-8") + zlib.compress(entries.encode("utf-8"))


if __name__ == "__main__":
    Path(sys.argv[1]).write_bytes(inventory())
