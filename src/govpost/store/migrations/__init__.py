"""govpost's schema migrations, run by Alembic from code (private).

:func:`govpost.store.upgrade` and :func:`govpost.store.open_store` drive them: no
``alembic.ini`` is needed or shipped, and the version is kept in the table
``govpost_schema_version`` (never Alembic's default ``alembic_version``, which an agency's own
migrations may use in the same database).

Each revision in ``versions/`` spells its tables out with ``op.create_table``; none reads the
live :mod:`govpost.store._schema`, which moves on with the library. A change to the tables is
a new revision, written by hand in the same way, and ``HEAD`` in :mod:`govpost.store._migrate`
moves to it.
"""
