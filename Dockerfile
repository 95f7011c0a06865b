# The app on port 8501. Build: docker build -t cnn-playground .   Run: docker run -p 8501:8501 cnn-playground
# The base image is pinned to an exact Python patch release and Debian release, so a rebuild gets the
# same interpreter. To pin it by digest as well, append the one `docker buildx imagetools inspect
# python:3.12.12-slim-bookworm` prints: FROM python:3.12.12-slim-bookworm@sha256:<digest>
FROM python:3.12.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2

WORKDIR /app

# Dependencies first, so editing the code does not reinstall TensorFlow. constraints.txt pins every
# package to the versions the tests passed with (regenerate it with scripts/lock.py).
COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt -c constraints.txt

COPY .streamlit/config.toml ./.streamlit/config.toml
COPY app.py serve.py ./
COPY cnn_core ./cnn_core
COPY ui ./ui
COPY views ./views
COPY assets ./assets

# Run as an unprivileged user.
RUN useradd --create-home --uid 10001 app
USER app

EXPOSE 8501

# The slim image has no curl; Python's urllib does the same job.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4).read() != b'ok')"]

# serve.py serves app.py and answers /_stcore/metrics with 404 (Streamlit has no setting to turn it off).
CMD ["streamlit", "run", "serve.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
