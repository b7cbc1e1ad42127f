# syntax=docker/dockerfile:1
# owls-q4d container image (used by docker-compose.yml).
#
# build:   Debian bookworm with the project's build steps from README.md's
#          quick start: `make deps`, then the build (`make`); then a staged
#          `make install` and the list of Debian packages the programs link.
# runtime: bookworm-slim with only those runtime libraries, the programs,
#          and an unprivileged owls-q4d user (the same name systemd's
#          sysusers.d snippet creates). The configuration is not baked in:
#          mount it (compose: the init service writes /config/owls-q4.conf).
ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends make ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make deps
RUN make
RUN make install PREFIX=/usr DESTDIR=/stage LIVE_SYSTEMD=false \
 && tests/ops/runtime-debs.sh /stage/usr/bin/* >/stage/runtime-debs.txt \
 && cat /stage/runtime-debs.txt

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /stage/runtime-debs.txt /tmp/runtime-debs.txt
# Unpinned on purpose: the libraries follow bookworm's security updates.
# hadolint ignore=DL3008
RUN apt-get update -qq \
 && xargs -a /tmp/runtime-debs.txt apt-get install -y -qq --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-debs.txt \
 && useradd --system --user-group --home-dir /var/lib/owls-q4d --create-home \
      --shell /usr/sbin/nologin owls-q4d \
 && chmod 0700 /var/lib/owls-q4d
COPY --from=build /stage/usr/bin/ /usr/bin/
USER owls-q4d
WORKDIR /var/lib/owls-q4d
# the spool directory, as systemd's StateDirectory= would announce it
ENV STATE_DIRECTORY=/var/lib/owls-q4d
VOLUME ["/var/lib/owls-q4d"]
# SIGTERM: graceful stop (drains for up to shutdown_grace_seconds)
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/owls-q4d"]
CMD ["-c", "/config/owls-q4.conf"]
