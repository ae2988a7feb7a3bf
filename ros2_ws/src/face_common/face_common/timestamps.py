"""ISO 8601 times as the UTC nanosecond stamps every message and event row carries.

Commands take periods (``--start``/``--end``) and recordings take their start time as ISO 8601 text;
one parser keeps a time without a zone meaning UTC everywhere, as every stored stamp is UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_ns(text: str) -> int:
    """``text`` (ISO 8601; no zone: UTC) as nanoseconds since the epoch; ValueError names the text."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise ValueError(f"{text!r} is not an ISO 8601 time") from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1e6) * 1000
