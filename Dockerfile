# WFAIB image: one image, three roles chosen by command (web, worker, scheduler).
#   docker build -t wfaib .
#   docker run -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=... wfaib web
#   docker run -e SECRET_KEY=... -v wfaib-data:/data wfaib web     # SQLite in the volume
# Two stages: the build stage installs the dependencies into a virtual environment and collects
# the static files; the slim runtime stage gets only that environment and the application, and
# runs it as an unprivileged user.

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY pyproject.toml README.md ./
COPY wfaib ./wfaib
COPY accounts ./accounts
COPY workflows ./workflows
COPY runs ./runs
COPY nodes ./nodes
COPY audit ./audit
COPY ai ./ai
# The dependencies only: the application itself runs from /app (its templates and static
# files sit beside it), so its own distribution is removed again.
RUN pip install . && pip uninstall -y wfaib
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN SECRET_KEY=build DATABASE_URL=sqlite:////tmp/build.db \
    python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/build.db build *.egg-info

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    DATABASE_URL=sqlite:////data/wfaib.sqlite3
RUN useradd --create-home --uid 10001 --user-group wfaib \
    && mkdir -p /data && chown wfaib:wfaib /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY scripts/docker-entrypoint.sh /usr/local/bin/wfaib
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=8)"]
ENTRYPOINT ["wfaib"]
CMD ["web"]
