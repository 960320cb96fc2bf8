"""Alembic's environment for govpost's migrations: they run on the connection govpost passes.

govpost runs this file itself (:func:`govpost.store.upgrade`, :func:`govpost.store.open_store`),
inside the transaction that holds the schema lock; it is not meant for the ``alembic`` command
line, and no ``alembic.ini`` is shipped.
"""

from __future__ import annotations

from alembic import context

from govpost.errors import StoreError
from govpost.store._migrate import VERSION_TABLE


def run_migrations() -> None:
    """Run the migrations Alembic was asked for on govpost's connection, in its transaction."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise StoreError(
            "govpost's migrations run from govpost, on its own connection: call "
            "govpost.store.upgrade(url), not the alembic command"
        )
    context.configure(connection=connection, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


# Alembic gives `context` its configuration only while it runs this file; merely importing it
# (pytest's doctest collection, pydoc) must do nothing.
if hasattr(context, "config"):
    run_migrations()
