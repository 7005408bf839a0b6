# The dfo image: runtime dependencies only, non-root user, data in /data.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DFO_HOME=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY dfo ./dfo
RUN pip install . \
    && useradd --create-home --uid 10001 dfo \
    && mkdir -p /data \
    && chown dfo /data

USER dfo
VOLUME ["/data"]
CMD ["dfo", "worker"]
