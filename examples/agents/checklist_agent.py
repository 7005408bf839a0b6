#!/usr/bin/env python3
"""A minimal dfo command agent: works through the pending items of the task it is given.

dfo starts it with the job's context as one JSON document on stdin and reads its stdout: lines
that are JSON objects with a "dfo" key are messages, anything else is a log line.

    dfo agent add checklist --kind command \
        --config '{"argv": ["python3", "examples/agents/checklist_agent.py"], "timeout": 300}'

To wrap an existing CLI agent, replace `do_the_work` with a call to it (subprocess, argv list),
and print `item_done` when it succeeds.
"""

import json
import sys
import time


def say(kind: str, **fields: object) -> None:
    print(json.dumps({"dfo": kind, **fields}), flush=True)


def do_the_work(task: dict, item: dict) -> str:
    time.sleep(0.1)  # a real agent would edit files, call tools, run tests...
    return f"did '{item['title']}' for {task['code']}"


def main() -> int:
    context = json.load(sys.stdin)
    task, pending = context["task"], context["items_pending"]
    print(f"working on {task['code']}: {len(pending)} pending item(s)")  # a plain log line
    for n, item in enumerate(pending, start=1):
        say("progress", percent=100 * (n - 1) / len(pending), message=f"starting {item['title']}")
        result = do_the_work(task, item)
        say("item_done", item_id=item["id"], result=result)
    say("memory", content=f"{task['code']}: all items done by the checklist agent",
        summary="checklist agent run", importance=0.4)
    return 0


if __name__ == "__main__":
    sys.exit(main())
