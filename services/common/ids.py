"""Identifiers: opaque, unique, sortable by creation time."""

from __future__ import annotations

import os
import time


def new_id(prefix: str) -> str:
    """A 26-char time-ordered id with a readable prefix, e.g. `evt_...`."""
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{millis:012x}{os.urandom(7).hex()}"
