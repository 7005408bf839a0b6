"""Agent configs, validated when an agent is added (and again when it runs), with errors that
name the bad field: `config.argv: required`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dfo.errors import InvalidInput
from dfo.models import AgentKind


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout: float | None = Field(default=None, gt=0, description="Seconds for one job's work.")
    max_tries: int | None = Field(default=None, ge=1, description="Attempts (transient errors).")


class DemoConfig(_Config):
    delay: float = Field(default=0.5, ge=0)
    fail_rate: float = Field(default=0.0, ge=0, le=1)
    fail_times: int = Field(default=0, ge=0)
    memory: bool = False


class CommandConfig(_Config):
    argv: list[str] = Field(min_length=1, description="Program and arguments; never a shell.")
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    grace: float = Field(default=5.0, ge=0, description="SIGTERM -> SIGKILL delay on stop.")


class OpenAIConfig(_Config):
    base_url: str = Field(min_length=1, description="e.g. http://localhost:11434/v1")
    model: str = Field(min_length=1)
    api_key_env: str | None = Field(default=None, description="Env var holding the API key.")
    system_prompt: str = "You are an agent working through a task's checklist items."
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    request_timeout: float = Field(default=120.0, gt=0)
    stream: bool = True
    max_retries: int = Field(default=4, ge=0)


MODELS: dict[str, type[_Config]] = {
    AgentKind.DEMO.value: DemoConfig,
    AgentKind.COMMAND.value: CommandConfig,
    AgentKind.OPENAI.value: OpenAIConfig,
}


def validate(kind: str, config: dict[str, Any], *, where: str = "config") -> dict[str, Any]:
    """The config with defaults filled in; InvalidInput naming the first bad field."""
    model = MODELS.get(kind)
    if model is None:
        raise InvalidInput(f"unknown agent kind {kind!r}: use demo, command or openai")
    try:
        return model.model_validate(config).model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        message = (
            "required"
            if first["type"] == "missing"
            else ("unknown field" if first["type"] == "extra_forbidden" else first["msg"].lower())
        )
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise InvalidInput(f"{where}.{path}: {message}{more}") from None
