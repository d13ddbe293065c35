"""The intents file (L9): expected verdicts of flows, read into
:class:`bgpemu.azure.traffic.intents.Intent` values (issue 14; docs/traffic.md).

```yaml
intents:
  - name: app-to-onprem-sql
    source: Spoke1/App          # an address, an interface / NVA / firewall name, VNET/SUBNET
    destination: 172.20.0.5
    protocol: tcp               # tcp (default), udp, icmp, esp, ah; any case
    port: 1433                  # the destination port; required for tcp and udp
    expect: reachable           # reachable, unreachable, or one verdict (denied, ...)
```

The file is read by the bounded YAML reader (:mod:`bgpemu.config.safe_yaml`); every
problem is reported at once, each with ``FILE:LINE``, the dotted path
(``intents[2].expect``), the reason and a hint, as the topology file's are.  Whether the
sources and destinations exist is the network's question
(:func:`bgpemu.azure.traffic.intents.check_intents`).
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated

from pydantic import Field, ValidationError, field_validator

from bgpemu.azure.traffic.flow import FLOW_PROTOCOLS
from bgpemu.azure.traffic.intents import EXPECTATIONS, Intent
from bgpemu.azure.traffic.matrix import PORTLESS
from bgpemu.config._schema_problems import dotted
from bgpemu.config.safe_yaml import read_file
from bgpemu.errors import ConfigError, ConfigProblem
from bgpemu.topology._base import Model
from bgpemu.topology._yaml import Path, YamlProblem, read

__all__ = ["load_intents", "parse_intents"]

_DOCS = "see docs/traffic.md, 'Intents'"
_SPELLING = {name.lower(): name for name in FLOW_PROTOCOLS}


class IntentModel(Model):
    """One intent as written."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    source: Annotated[str, Field(min_length=1, max_length=200)]
    destination: Annotated[str, Field(min_length=1, max_length=200)]
    protocol: str = "Tcp"
    port: Annotated[int, Field(ge=0, le=65535)] | None = None
    expect: str

    @field_validator("protocol")
    @classmethod
    def _protocol(cls, value: str) -> str:
        spelled = _SPELLING.get(value.strip().lower())
        if spelled is None:
            raise ValueError(f"protocol {value!r} is not one of {', '.join(FLOW_PROTOCOLS)}")
        return spelled

    @field_validator("expect")
    @classmethod
    def _expect(cls, value: str) -> str:
        if value not in EXPECTATIONS:
            raise ValueError(f"expect {value!r} is not one of {', '.join(EXPECTATIONS)}")
        return value


class IntentsFileModel(Model):
    """The file: a list of intents."""

    intents: Annotated[list[IntentModel], Field(min_length=1, max_length=10_000)]


def _problems_of(exc: ValidationError) -> list[tuple[Path, str, str]]:
    found: list[tuple[Path, str, str]] = []
    for item in exc.errors(include_url=False):
        path: Path = tuple(p for p in item["loc"] if not str(p).startswith("function-"))
        message = str(item["msg"]).removeprefix("Value error, ")
        hint = _DOCS
        if item["type"] == "extra_forbidden":
            message = f"unknown field {path[-1]!r}"
            hint = f"fields here: {', '.join(_fields())}" if len(path) > 1 else "only 'intents'"
        elif item["type"] == "model_type":
            what = "an intent" if len(path) > 1 else "the file"
            message = f"{what} must be a mapping, not {type(item['input']).__name__}"
            hint = f"fields: {', '.join(_fields())}" if len(path) > 1 else "'intents: [...]'"
        elif item["type"] == "missing":
            message = "required field is missing"
            hint = f"add {path[-1]!r}; {_DOCS}"
        found.append((path, message, hint))
    return found


def _fields() -> list[str]:
    return [info.alias or name for name, info in IntentModel.model_fields.items()]


def parse_intents(text: str, file: str = "<intents>") -> list[Intent]:
    """The intents of ``text``; :class:`ConfigError` with every problem otherwise."""
    source = read(text)
    if isinstance(source, YamlProblem):
        raise ConfigError([source.in_file(file)])

    def problem(path: Path, message: str, hint: str, line: int | None = None) -> ConfigProblem:
        line = line or source.line(path)
        where = f"{file}:{line}" if line is not None else file
        return ConfigProblem(where, dotted(path), message, hint)

    if not isinstance(source.data, dict):
        raise ConfigError([problem((), "the file must hold a mapping with 'intents'", _DOCS)])
    problems = [
        problem(path, f"{path[-1]!r} is defined twice (first on line {first})", "remove one", line)
        for path, line, first in source.duplicate_keys()
    ]
    model: IntentsFileModel | None = None
    try:
        model = IntentsFileModel.model_validate(source.data)
    except ValidationError as exc:
        problems += [problem(*found) for found in _problems_of(exc)]
    if model is None:
        raise ConfigError(problems)
    seen: dict[str, int] = {}
    for index, item in enumerate(model.intents):
        if item.name in seen:
            problems.append(
                problem(
                    ("intents", index, "name"),
                    f"intent name {item.name!r} is used twice "
                    f"(first at intents[{seen[item.name]}])",
                    "give every intent its own name",
                )
            )
        seen.setdefault(item.name, index)
        if item.port is None and item.protocol not in PORTLESS:
            problems.append(
                problem(
                    ("intents", index),
                    f"port is required for {item.protocol}",
                    "add 'port: N' (the destination port)",
                )
            )
    if problems:
        raise ConfigError(problems)
    return [_intent(file, source.line(("intents", i)), i, m) for i, m in enumerate(model.intents)]


def _intent(file: str, line: int | None, index: int, model: IntentModel) -> Intent:
    return Intent(
        name=model.name,
        source=model.source,
        destination=model.destination,
        protocol=model.protocol,
        port=model.port or 0,
        expect=model.expect,
        where=f"{file}:{line}" if line is not None else file,
        path=f"intents[{index}]",
    )


def load_intents(path: str | FsPath) -> list[Intent]:
    """Read and check an intents file (:class:`ConfigError` with every problem)."""
    text = read_file(path)
    if isinstance(text, YamlProblem):
        raise ConfigError([text.in_file(str(path))])
    return parse_intents(text, str(path))
