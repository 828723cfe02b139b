# WFAIB image: one image, three roles chosen by command (web, worker, scheduler).
#   docker build -t wfaib .
#   docker run -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=... wfaib web
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY wfaib ./wfaib
COPY accounts ./accounts
COPY workflows ./workflows
COPY runs ./runs
COPY nodes ./nodes
COPY audit ./audit
COPY ai ./ai
COPY templates ./templates
COPY static ./static
COPY manage.py ./
COPY scripts/docker-entrypoint.sh /usr/local/bin/wfaib
RUN pip install -e . && useradd --create-home wfaib \
    && SECRET_KEY=build DATABASE_URL=sqlite:////tmp/build.db python manage.py collectstatic --noinput -v0 \
    && chown -R wfaib /app
USER wfaib
EXPOSE 8000
ENTRYPOINT ["wfaib"]
CMD ["web"]
