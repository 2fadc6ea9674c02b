# crmsync container: the same package `make test` checks, run as a non-root user.
#   docker build -t crmsync .
#   docker run --rm --env-file .env \
#     -v "$PWD/mappings:/app/mappings:ro" -v "$PWD/config:/app/config:ro" \
#     -v "$PWD/jobs:/app/jobs:ro" -v crmsync-state:/app/.crmsync crmsync sync
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY connector ./connector
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY --from=build /dist/*.whl /tmp/
RUN pip install "$(ls /tmp/*.whl)[postgres]" && rm /tmp/*.whl \
    && useradd --create-home --uid 10001 crmsync
WORKDIR /app
COPY --chown=crmsync:crmsync mappings ./mappings
COPY --chown=crmsync:crmsync config ./config
COPY --chown=crmsync:crmsync jobs ./jobs
RUN mkdir -m 700 /app/.crmsync && chown crmsync:crmsync /app/.crmsync
USER crmsync
VOLUME ["/app/.crmsync"]
ENTRYPOINT ["crmsync"]
CMD ["--help"]
