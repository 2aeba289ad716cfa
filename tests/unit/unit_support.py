"""What the unit layer's tests share beside their fixtures (tests/unit/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
"""The clock the unit tests' writes are stamped with (the demo data's as well)."""
