"""Alembic's environment and revisions for the ledger; run them with `plugin.migrate`."""
