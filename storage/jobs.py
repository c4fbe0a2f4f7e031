"""Job and example queries (owned by the generation engine)."""

from __future__ import annotations

from sqlalchemy.engine import Engine


class JobQueries:
    engine: Engine
