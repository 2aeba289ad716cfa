"""Alembic migrations: the only source of the emulator's schema (shipped inside the package)."""
