"""Coverage-guided fuzzing of the topology loader (atheris; issue 12).

Every input is a topology file's bytes.  The loader must answer each one with a
Network or a :class:`~bgpemu.errors.ConfigError` (a problem naming the file), in bounded
time and memory: any other exception is a finding, and so is an input that takes longer
than libFuzzer's ``-timeout`` or more than its ``-rss_limit_mb``.

The same bytes also go through the speaker config loader, which reads YAML with the
same bounded reader (:mod:`bgpemu.config.safe_yaml`).

Run (atheris is not a test dependency: ``.venv/bin/pip install atheris==3.0.0``)::

    mkdir -p /tmp/fuzz-topology
    nice .venv/bin/python fuzz/atheris_topology.py -timeout=30 -rss_limit_mb=2048 \
        -max_total_time=660 -dict=fuzz/topology.dict -print_final_stats=1 \
        /tmp/fuzz-topology topologies tests/data/topology tests/data/hostile

A finding is written as ``crash-*`` / ``timeout-*`` in the current directory; replay one
with ``.venv/bin/python fuzz/atheris_topology.py FILE``.  ``--replay PATH...`` runs
inputs once without atheris (line coverage: ``coverage run``, see fuzz/README.md).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPLAY = "--replay" in sys.argv[1:2]
"""``--replay PATH...``: run inputs once without atheris (for ``coverage run``)."""

if REPLAY:
    from bgpemu.config import parse_speaker_config
    from bgpemu.config.safe_yaml import LIMITS
    from bgpemu.errors import ConfigError
    from bgpemu.topology import parse_topology
else:
    import atheris

    with atheris.instrument_imports(include=["bgpemu"]):
        from bgpemu.config import parse_speaker_config
        from bgpemu.config.safe_yaml import LIMITS
        from bgpemu.errors import ConfigError
        from bgpemu.topology import parse_topology


def one_input(data: bytes) -> None:
    """Load ``data`` as a topology and as a speaker config; only ConfigError may come out."""
    if len(data) > LIMITS.max_bytes:
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # the file readers refuse it before parsing (safe_yaml.read_file)
    for parse, file in ((parse_topology, "fuzz.yaml"), (parse_speaker_config, "speaker.yaml")):
        try:
            parse(text, file)
        except ConfigError as exc:
            _check_problems(exc, file)


def _check_problems(error: ConfigError, file: str) -> None:
    """A ConfigError must list problems, each naming the file."""
    if not error.problems:
        raise RuntimeError("a ConfigError without problems")
    for problem in error.problems:
        if not problem.file.startswith(file):
            raise RuntimeError(f"a problem that does not name {file}: {problem}")


def replay(paths: list[str]) -> int:
    """Run every file under ``paths`` once; print the slowest and any finding."""
    files = [p for arg in paths for p in sorted(Path(arg).rglob("*")) if p.is_file()]
    files += [Path(arg) for arg in paths if Path(arg).is_file()]
    slowest, findings = (0.0, ""), 0
    for path in files:
        start = time.perf_counter()
        try:
            one_input(path.read_bytes())
        except Exception as exc:  # a finding: report it and go on
            findings += 1
            print(f"{path}: {type(exc).__name__}: {exc}")
        slowest = max(slowest, (time.perf_counter() - start, str(path)))
    print(f"{len(files)} inputs, {findings} findings, slowest {slowest[0]:.2f} s ({slowest[1]})")
    return 1 if findings else 0


def main() -> None:
    """libFuzzer's command line (``-help=1`` lists the options), or ``--replay``."""
    if REPLAY:
        sys.exit(replay(sys.argv[2:]))
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
