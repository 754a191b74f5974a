# HomeSec for Home Assistant Container and Core users: the engine with its detector runtime
# and shipped model, ffmpeg, a non-root user and one volume (/data). The add-on is built from
# addon/homesec/Dockerfile instead. compose.yaml shows it next to PostgreSQL.
# tests/test_standalone_image.py replays these steps under chroot and reaches a real alert.
FROM debian:trixie-slim

# Debian's Python 3.13 (onnxruntime has glibc wheels for it on amd64 and arm64) and ffmpeg.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates \
        ffmpeg \
        python3 \
        python3-venv \
        tzdata \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --uid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin homesec \
    && mkdir -p /data \
    && chown homesec:homesec /data

# The engine from this checkout, in a virtualenv (Debian's Python is externally managed).
COPY pyproject.toml README.md LICENSE /src/
COPY homesec_engine /src/homesec_engine
RUN python3 -m venv /opt/homesec \
    && /opt/homesec/bin/pip install --no-cache-dir --only-binary=onnxruntime "/src[detector,webrtc]" \
    && /opt/homesec/bin/python3 -c "import homesec_engine.__main__, onnxruntime" \
    && rm -rf /src

COPY container/homesec.yaml /etc/homesec/homesec.yaml

ENV PATH=/opt/homesec/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1

USER homesec
WORKDIR /data
VOLUME /data
EXPOSE 8080

# /api/v1/health answers 503 only when the pipeline is stopped; urlopen raises on it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/v1/health', timeout=4)"]

CMD ["homesec", "run", "--config", "/etc/homesec/homesec.yaml"]
