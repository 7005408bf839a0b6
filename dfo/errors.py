"""One error tree for dfo; every error carries the exit code the CLI returns for it.

DfoError (1)
├── InvalidInput (2)            bad arguments, malformed codes, bad files
│   ├── NotFound (2)            unknown task, project, agent, job
│   ├── ImportFileError (2)     an import file that does not validate (all problems listed)
│   └── DependencyCycle (2)     a dependency that would close a cycle
├── Unavailable (6)             a service dfo needs cannot be reached
│   ├── DatabaseUnavailable (6)
│   ├── SchemaOutdated (6)      the database needs `dfo db upgrade`
│   └── RedisUnavailable (6)
├── JobFailed (1) · JobBlocked (3) · JobCancelled (4) · WaitTimeout (5)
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the CLI (contract: DESIGN.md section 5)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    BLOCKED = 3
    CANCELLED = 4
    TIMEOUT = 5
    UNAVAILABLE = 6
    INTERRUPTED = 130


class DfoError(Exception):
    exit_code: ExitCode = ExitCode.FAILED


class InvalidInput(DfoError):
    exit_code = ExitCode.USAGE


class NotFound(InvalidInput):
    pass


class ImportFileError(InvalidInput):
    """An import file with problems; `problems` holds one `path: message` line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        first = problems[0] if problems else "invalid file"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {first}{more}")


class DependencyCycle(InvalidInput):
    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__("dependency cycle: " + " -> ".join(cycle))


class Unavailable(DfoError):
    exit_code = ExitCode.UNAVAILABLE


class DatabaseUnavailable(Unavailable):
    pass


class SchemaOutdated(Unavailable):
    pass


class RedisUnavailable(Unavailable):
    pass


class JobFailed(DfoError):
    exit_code = ExitCode.FAILED


class JobBlocked(DfoError):
    exit_code = ExitCode.BLOCKED


class JobCancelled(DfoError):
    exit_code = ExitCode.CANCELLED


class WaitTimeout(DfoError):
    exit_code = ExitCode.TIMEOUT
