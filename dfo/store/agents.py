"""Agents: configured executors (`demo`, `command`, `openai`)."""

from __future__ import annotations

import json

from sqlalchemy import Row, bindparam, select
from sqlalchemy.exc import IntegrityError

from dfo.errors import InvalidInput, NotFound
from dfo.models import Agent
from dfo.store.conn import Connection
from dfo.store.schema import agents


def _agent(row: Row[tuple[object, ...]]) -> Agent:
    m = row._mapping
    return Agent(
        id=m["id"],
        name=m["name"],
        kind=m["kind"],
        config=json.loads(m["config"] or "{}"),
        is_active=bool(m["is_active"]),
        created_at=m["created_at"],
    )


async def add_agent(conn: Connection, name: str, kind: str, config: dict[str, object]) -> Agent:
    try:
        await conn.execute(
            agents.insert().values(name=name, kind=kind, config=json.dumps(config, sort_keys=True))
        )
    except IntegrityError:
        raise InvalidInput(f"agent {name} already exists") from None
    return await get_agent(conn, name)


_FIND_AGENT = select(agents).where(agents.c.name == bindparam("b_name"))


async def find_agent(conn: Connection, name: str) -> Agent | None:
    row = (await conn.execute(_FIND_AGENT, {"b_name": name})).first()
    return _agent(row) if row else None


async def get_agent(conn: Connection, name: str) -> Agent:
    agent = await find_agent(conn, name)
    if agent is None:
        raise NotFound(f"unknown agent {name}")
    return agent


async def list_agents(conn: Connection) -> list[Agent]:
    return [_agent(r) for r in await conn.execute(select(agents).order_by(agents.c.name))]
