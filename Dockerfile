# One image for every sscard service: `sscard serve <identity|cards|loss|settlement>`,
# `sscard migrate all` for the migrations Job. The runtime of `make`'s install, from the hashed lock.
FROM python:3.11-slim AS build
WORKDIR /src
# Runtime dependencies only, every file checked against the lock's hashes (requirements.lock,
# `make lock`); no test tools, no code generator, no embedded nats-server.
COPY requirements.lock pyproject.toml ./
RUN python -m venv /opt/sscard && /opt/sscard/bin/pip install --no-cache-dir --require-hashes --only-binary=:all: -r requirements.lock
COPY services ./services
COPY gen ./gen
COPY protos/sscard ./gen/sscard
COPY bench ./bench
RUN /opt/sscard/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin sscard
COPY --from=build /opt/sscard /opt/sscard
COPY regions /etc/sscard/regions
ENV PATH=/opt/sscard/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SSCARD_REGIONS_DIR=/etc/sscard/regions \
    SSCARD_DATA_DIR=/var/lib/sscard \
    SSCARD_LOG_FORMAT=json
USER 10001:10001
EXPOSE 50151 50152 50153 50154 9151 9152 9153 9154
ENTRYPOINT ["sscard"]
CMD ["--help"]
