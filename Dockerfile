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
COPY pyproject.toml README.md ./
COPY src ./src
# The wheel ships topologies/ and schema/ (src/bgpemu/_data links to them): copy them first.
COPY topologies ./topologies
COPY schema ./schema
RUN pip install . && useradd --system --create-home --uid 10179 bgpemu

# Speakers listen on 127.0.10.N (one container, "lab" service) or on their bridge
# address ("split" profile); the default BGP port 10179 needs no privilege.
USER bgpemu
ENTRYPOINT ["bgpemu"]
CMD ["--help"]
