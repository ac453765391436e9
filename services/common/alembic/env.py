"""Alembic environment shared by the four services (services/common/schema.py drives it).

Online: runs on the connection schema.upgrade passes in, inside its transaction (and advisory
lock). Offline (`sscard migrate SERVICE --sql`): writes the DDL for the dialect asked for.
"""

from importlib import import_module

from alembic import context

from services.common import schema

config = context.config
service = config.attributes["service"]
metadata = import_module(f"services.{service}.store").metadata

if context.is_offline_mode():
    dialect = config.attributes.get("dialect", "postgresql")
    context.configure(
        dialect_name=dialect, literal_binds=True, target_metadata=metadata,
        output_buffer=config.attributes.get("output"), transactional_ddl=dialect == "postgresql",
    )
    with context.begin_transaction():
        if dialect == "postgresql":
            # What concurrent online upgrades do: one at a time per service.
            context.execute(f"SELECT pg_advisory_xact_lock({schema.lock_key(service)})")
        context.run_migrations()
else:
    context.configure(connection=config.attributes["connection"], target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
