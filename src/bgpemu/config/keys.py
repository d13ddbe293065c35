"""TCP-MD5 keys (RFC 2385) in configuration files: inline, from the environment, or a file.

One field type, :data:`Md5Key`, for every place a key is configured (a speaker
config's neighbour ``password``, a topology's ``bgp`` connection ``password`` and
ExpressRoute circuit ``sharedKey``).  A key is written in one of three forms::

    password: "s3cret"                  # inline text (UTF-8), 1 to 80 octets
    password: {env: BGP_KEY_R1}         # the value of an environment variable
    password: {file: /run/secrets/r1}   # a regular file's content, trailing newline dropped

The reference is resolved when the file is loaded, so a missing variable or an
unreadable file is reported with the other problems of the file and nothing starts.
A relative ``file`` path is taken from the directory of the file that names it.  A
topology received over the MQTT control topic may not use references at all (the lab
does not read its own files or environment at a remote client's request): the loader
says so through :class:`KeySources` in the validation context.
No message ever quotes the key, and the model serialises it as ``<redacted>``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, ValidationInfo, WithJsonSchema

from bgpemu.files import FileLimitError, read_limited
from bgpemu.types import TCP_MD5_MAX_KEY_LENGTH, TcpMd5Key

__all__ = ["KEY_FILE_MAX_SIZE", "KEY_SOURCES", "KeySources", "Md5Key", "read_key"]

KEY_FILE_MAX_SIZE = 1024
"""A key file larger than this (in octets) is refused without being read."""

_FORMS = "text, {env: VARIABLE} or {file: PATH}"


KEY_SOURCES = "md5_key_sources"
"""The pydantic validation-context key under which a loader passes :class:`KeySources`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KeySources:
    """Where the keys of one file may come from."""

    base: Path | None = None
    """The directory relative ``{file: PATH}`` references start from (None: the current
    directory)."""
    references: bool = True
    """False: only inline keys (a topology sent over the control topic)."""


def read_key(value: object, sources: KeySources | None = None) -> TcpMd5Key:
    """The key that ``value`` (one of the three forms above) gives; ValueError otherwise.

    The messages name the variable or the file, never the key.
    """
    sources = sources or KeySources()
    if isinstance(value, TcpMd5Key):
        return value
    if isinstance(value, str):
        return _key(value.encode("utf-8"), "")
    if isinstance(value, dict) and len(value) == 1 and not sources.references:
        raise ValueError(
            "a topology sent to a running lab gives its TCP-MD5 keys inline: the lab does "
            "not read {env: ...} or {file: ...} references for a remote client "
            "(bgpemu apply resolves them on your machine before sending)"
        )
    if isinstance(value, dict) and len(value) == 1:
        ((kind, ref),) = value.items()
        if kind == "env" and isinstance(ref, str) and ref:
            text = os.environ.get(ref)
            if text is None:
                raise ValueError(f"environment variable {ref} (the TCP-MD5 key) is not set")
            return _key(text.encode("utf-8"), f"environment variable {ref}")
        if kind == "file" and isinstance(ref, str) and ref:
            path = sources.base / ref if sources.base is not None else Path(ref)
            return _key(_read_file(str(path)), f"key file {ref}")
    raise ValueError(
        f"a TCP-MD5 password is {_FORMS} (a number must be quoted, so YAML does not reinterpret it)"
    )


def _key(secret: bytes, where: str) -> TcpMd5Key:
    try:
        return TcpMd5Key(secret)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}" if where else str(exc)) from None


def _read_file(path: str) -> bytes:
    """A regular file of at most :data:`KEY_FILE_MAX_SIZE` octets of UTF-8 text (as every
    peer's configuration writes a key), trailing newlines dropped.

    Only a regular file is opened (a FIFO or a device could block or never end):
    :func:`bgpemu.files.read_limited`.
    """
    try:
        data = read_limited(path, KEY_FILE_MAX_SIZE)
    except FileLimitError as exc:
        if exc.not_regular:
            raise ValueError(f"key file {path} is not a regular file") from None
        raise ValueError(
            f"key file {path} has {exc.size} octets; a TCP-MD5 key has at most "
            f"{TCP_MD5_MAX_KEY_LENGTH}"
        ) from None
    except OSError as exc:
        raise ValueError(f"cannot read key file {path}: {exc.strerror or exc}") from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"key file {path} is not UTF-8 text") from None
    return data.rstrip(b"\r\n")


def _validate(value: object, info: ValidationInfo) -> TcpMd5Key:
    context = info.context if isinstance(info.context, dict) else {}
    sources = context.get(KEY_SOURCES)
    return read_key(value, sources if isinstance(sources, KeySources) else None)


def _redacted(_key: TcpMd5Key) -> str:
    return "<redacted>"


_SCHEMA: dict[str, Any] = {
    "description": "TCP-MD5 key (RFC 2385), 1-80 octets: " + _FORMS,
    "anyOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "properties": {"env": {"type": "string", "minLength": 1}},
            "required": ["env"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"file": {"type": "string", "minLength": 1}},
            "required": ["file"],
            "additionalProperties": False,
        },
    ],
}

Md5Key = Annotated[
    TcpMd5Key,
    PlainValidator(_validate),
    PlainSerializer(_redacted, return_type=str),
    WithJsonSchema(_SCHEMA),
]
"""A pydantic field holding a resolved :class:`~bgpemu.types.TcpMd5Key`."""
