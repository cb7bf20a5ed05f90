"""What every test of an explanation checks of its shape."""
from __future__ import annotations


def assert_structure(message: str) -> None:
    """An explanation says what failed, its cause and its fix, in that order."""
    assert ". Cause: " in message and ". Fix: " in message
