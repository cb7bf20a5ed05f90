"""Make ``ansible_collections.winbits.bits`` importable: the collection tree goes first on sys.path."""
from __future__ import annotations

import sys

from tests.support.paths import collections_root

_ROOT = str(collections_root())
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
