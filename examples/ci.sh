#!/usr/bin/env bash
# Calling dfo from CI: run an agent job per task, wait for the outcome, branch on the exit code.
# Usage: examples/ci.sh TASK...    (DFO overrides the command, e.g. DFO="python -m dfo")
set -uo pipefail
DFO=${DFO:-dfo}

# --json --wait prints one NDJSON event per line, then a summary line: keep the summary.
$DFO enqueue "$@" --wait --timeout "${DFO_CI_TIMEOUT:-600}" --json > dfo-events.ndjson
status=$?
summary=$(tail -n 1 dfo-events.ndjson)

case $status in
  0)   echo "all jobs completed" ;;
  1)   echo "a job failed: see 'dfo job JOB'" ;;
  2)   echo "bad input (unknown or malformed task code)"; exit 2 ;;
  3)   echo "a task is blocked by unfinished work: see 'dfo blockers TASK'" ;;
  4)   echo "a job was cancelled" ;;
  5)   echo "timed out waiting; the jobs keep running" ;;
  6)   echo "Redis or the database is unreachable" ;;
  130) echo "interrupted" ;;
esac
# One line per job from the summary, e.g. "SHOP-101: completed".
python3 -c 'import json, sys
for job in json.loads(sys.argv[1]).get("summary", []):
    print(job["task_code"] + ": " + job["status"])' "$summary" 2>/dev/null
exit $status
