# A small static vigil image: docker build -t vigil .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/vigil-scanner/vigil/internal/cli.version=${VERSION} -X github.com/vigil-scanner/vigil/internal/cli.commit=${COMMIT}" \
      -o /out/vigil ./cmd/vigil

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vigil /usr/local/bin/vigil
COPY contrib/templates /contrib/templates
ENV VIGIL_CACHE_DIR=/home/nonroot/.cache/vigil
ENTRYPOINT ["/usr/local/bin/vigil"]
