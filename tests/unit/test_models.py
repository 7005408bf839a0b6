"""`models.evolve`: the worker's cheap copy of a frozen job or event with some fields changed."""

from __future__ import annotations

import dataclasses

import pytest

from dfo.events import Event
from dfo.models import evolve


def _event() -> Event:
    return Event(
        type="agent_job_progress",
        job_id="j1",
        task_code="T-1",
        project="P",
        agent="demo",
        status="active",
        phase="execution",
        progress=40,
        data={"item_id": 3},
    )


def test_evolve_is_replace() -> None:
    event = _event()
    copy = evolve(event, seq=7, progress=50)
    assert copy == dataclasses.replace(event, seq=7, progress=50)
    assert type(copy) is Event
    assert (event.seq, event.progress) == (0, 40)  # the original is untouched
    with pytest.raises(dataclasses.FrozenInstanceError):
        copy.seq = 8  # type: ignore[misc]


def test_evolve_rejects_unknown_fields() -> None:
    with pytest.raises(TypeError, match="no field"):
        evolve(_event(), sequence=7)
