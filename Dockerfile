# The production image: gunicorn serves the app, whitenoise its static files.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 annotator
WORKDIR /app

COPY pyproject.toml requirements.lock README.md ./
COPY annotator annotator
COPY issues issues
COPY studies studies
COPY agreement agreement
COPY llm llm
COPY surveys surveys
# The versions `make test` ran with (requirements.lock).
RUN pip install --constraint requirements.lock .

COPY manage.py ./
COPY templates templates
COPY static static
COPY fixtures fixtures
# collectstatic reads settings, which require these; neither is used.
RUN SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput

# The uploads volume (docker-compose.yml) starts as a copy of this directory: writable by the app.
RUN mkdir -p /data/uploads && chown -R annotator:annotator /data
USER annotator
EXPOSE 8000
CMD ["gunicorn", "annotator.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
