"""dfo writes arq's job data and keys itself (clients never import arq): arq must read them."""

from __future__ import annotations

import arq.constants
from arq.jobs import deserialize_job_raw, serialize_job

from dfo import keys, queue


def test_key_names_are_arqs() -> None:
    assert arq.constants.abort_jobs_ss == keys.ARQ_ABORT
    assert keys.arq_job("j.1") == arq.constants.job_key_prefix + "j.1"
    assert keys.arq_in_progress("j.1") == arq.constants.in_progress_key_prefix + "j.1"
    assert keys.arq_result("j.1") == arq.constants.result_key_prefix + "j.1"


def test_arq_reads_the_job_data_dfo_pushes() -> None:
    data = queue.payload("0123abcd", 1_700_000_000_123)
    # what arq's worker reads (run_job), and byte for byte what arq's enqueue would write
    function, args, kwargs, job_try, enqueued_ms = deserialize_job_raw(data)
    assert (function, args, kwargs) == (queue.FUNCTION, ("0123abcd",), {})
    assert job_try is None  # arq counts tries itself
    assert enqueued_ms == 1_700_000_000_123
    assert data == serialize_job(queue.FUNCTION, ("0123abcd",), {}, None, 1_700_000_000_123)
