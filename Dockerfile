# bgpemu: the package and the reference topologies on a slim Python base.
# `docker compose up lab` builds this image; see README.md and docs/lab.md.
# BASE: any image with Python 3.11+ and pip on PATH. Users with a registry get the
# default; without one, scripts/docker-base builds an equivalent (Debian bookworm's
# python3 in a venv, mosquitto, and a wheelhouse that pip reads offline).
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/bgpemu
# The dependencies and the build backend first, read from pyproject.toml alone: this
# layer is rebuilt when pyproject.toml changes, not on every change to the sources.
COPY pyproject.toml ./
RUN python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb")); \
print("\n".join(p["build-system"]["requires"] + p["project"]["dependencies"]))' \
        >/tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt \
    && useradd --system --create-home --uid 10179 bgpemu
COPY README.md ./
COPY src ./src
# The wheel ships topologies/ and schema/ (src/bgpemu/_data links to them): copy them first.
COPY topologies ./topologies
COPY schema ./schema
RUN pip install --no-deps --no-build-isolation .

# Speakers listen on 127.0.10.N (one container, "lab" service) or on their bridge
# address ("split" profile); the default BGP port 10179 needs no privilege.
USER bgpemu
ENTRYPOINT ["bgpemu"]
CMD ["--help"]
