"""Ledger revisions. File names start with the revision id ("0003_..."), in order:
`plugin.migrate` reads the head from the names, so start-up needs no Alembic import."""
