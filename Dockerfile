# syntax=docker/dockerfile:1
#
# The gateway as a container: a static Go binary on distroless (no shell, no
# package manager, non-root). Build:
#
#   docker build -t creditgate --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg COMMIT=$(git rev-parse HEAD) --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) .
#
# `make docker-binary` builds the same binary with the same flags without
# Docker; server/docker_test.go holds the two to each other and lints this
# file with BuildKit's own parser (Docker cannot run on the CI machine).

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" -o /out/creditgate ./server
# The SQLite file's directory, owned by distroless's nonroot user (65532),
# for running without DATABASE_URL.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/creditgate /usr/local/bin/creditgate
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV LISTEN_ADDR=:8080 \
    SQLITE_PATH=/data/creditgate.db
EXPOSE 8080
VOLUME ["/data"]
# The binary asks its own /healthz on LISTEN_ADDR: no shell or curl here.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/creditgate", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/creditgate"]
CMD ["serve"]
