"""Alembic migrations of the ops database (``storeops.opsdb.migrate``)."""
