# One image for every tier: `serve` (the default), `serve --no-worker` and `worker`.
#   docker build -t voicemail-coach .
#   docker run --rm -p 3000:3000 -v coach-data:/data voicemail-coach
# See docs/deploy.md. tests/test_deploy.py keeps the install below the same as the Makefile's.

# The build stage: everything pip needs to install, none of it kept.
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install --yes --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY policy ./policy
COPY bot ./bot
COPY adapters ./adapters
COPY manifest ./manifest
# As `make` installs, at the versions pinned in constraints.txt, but the package itself (not
# editable, so /src can go) and without the dev extra.
RUN /opt/venv/bin/pip install --quiet --upgrade pip \
    && /opt/venv/bin/pip install --quiet -c constraints.txt .

# The final stage: Python, the venv, and a user that can write to /data and its home only.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --create-home --shell /usr/sbin/nologin coach \
    && mkdir /data \
    && chown coach:coach /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=3000 \
    VOICEMAIL_COACH_DB=/data/voicemail-coach.db
# The SQLite file (and its -wal and -shm) when there is no REDIS_URL.
VOLUME /data
WORKDIR /data
USER coach
# matplotlib's font list, made once here rather than at each container's first digest chart.
RUN python -c "import matplotlib.font_manager"
EXPOSE 3000
# Liveness. slim has no curl; urlopen raises (so exits 1) on anything but a 2xx.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]
ENTRYPOINT ["voicemail-coach"]
# serve and worker listen on 0.0.0.0 unless --host says otherwise.
CMD ["serve"]
