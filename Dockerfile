# The service on the bundled data: docker build -t at-tanf-map . && docker run -p 8000:8000 at-tanf-map
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    AT_TANF_HOST=0.0.0.0 \
    AT_TANF_PORT=8000
# Links name the Host a request carries only if it is allowed (default: localhost, 127.0.0.1);
# where the map is published, set it: docker run -e AT_TANF_PUBLIC_URL=https://maps.example.org/tanf/
# (or AT_TANF_ALLOWED_HOSTS=…, and AT_TANF_FORWARDED_ALLOW_IPS=<proxy address> to believe a proxy's
# X-Forwarded-Proto/-Prefix). README, "In production".

# A font for the text of the PNG previews (resvg reads the system's fonts).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 app
WORKDIR /srv/at-tanf-map
COPY pyproject.toml setup.py README.md /tmp/src/
COPY app /tmp/src/app
COPY static /tmp/src/static
COPY geodata /tmp/src/geodata
# A plain (not editable) install: the wheel carries the templates, static/ and the bundled
# geodata/ as package data, so the sources are removed; then check the data at build time, and
# drop root. With the postgis extra (psycopg 3), the image can also serve from PostGIS
# (AT_TANF_DATABASE_URL) and load it (at-tanf-map load).
RUN pip install '/tmp/src[postgis]' && rm -rf /tmp/src && at-tanf-map validate

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["at-tanf-map", "serve", "--workers", "2"]
