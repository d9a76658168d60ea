# syntax=docker/dockerfile:1
# The ecr-refresher image for users who build with Docker. CI builds the same image
# without a daemon: scripts/build-image (keep the two consistent).
#
#   docker build -t ghcr.io/ecr-registry-helper/ecr-refresher:<version> .
#
# Result: only /ecr-refresher (static glibc binary) and the CA bundle, user 65532.

FROM rust:1.95.0-bookworm AS build
ARG TARGETARCH
WORKDIR /src
COPY . .
# An explicit --target applies +crt-static to the binary only; build scripts and
# proc-macros stay dynamic. ca-certificates comes with the Debian base image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    case "${TARGETARCH:-amd64}" in \
      amd64) triple=x86_64-unknown-linux-gnu ;; \
      arm64) triple=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported TARGETARCH ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
    && RUSTFLAGS="-C target-feature=+crt-static" \
       cargo build --release --locked -p ecr-refresher --target "$triple" \
    && install -m 0755 "target/$triple/release/ecr-refresher" /ecr-refresher \
    && test -f /etc/ssl/certs/ca-certificates.crt

FROM scratch
ARG VERSION=0.1.0
ARG REVISION=unknown
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /ecr-refresher /ecr-refresher
USER 65532:65532
WORKDIR /
ENTRYPOINT ["/ecr-refresher"]
LABEL org.opencontainers.image.title="ecr-refresher" \
      org.opencontainers.image.description="Turns AWS credentials into a fresh regcred-<name> docker-registry Secret" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/ecr-registry-helper/ecr-registry-helper" \
      org.opencontainers.image.licenses="Apache-2.0"
