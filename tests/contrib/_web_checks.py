"""Shared expectations for the web integrations: the same promises, whatever the framework."""

from __future__ import annotations

import re

HEX32 = re.compile(r"[0-9a-f]{32}\Z")
VALID = "0af7651916cd43dd8448eb211c80319c"

#: Incoming values that must never be continued, echoed or logged.
HOSTILE = [
    "0" * 32,
    "not-an-id",
    "g" * 32,
    "a" * 10_000,
    VALID[:-1] + "\u00e9",
    "\u0660" * 32,
    VALID + "\r\nSet-Cookie: stolen=1",
]
