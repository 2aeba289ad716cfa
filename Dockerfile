# The emulator as a container: `docker compose up` runs it on PostgreSQL (see docker-compose.yml).
FROM python:3.12-slim

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY migrations ./migrations
COPY wsdl ./wsdl
RUN pip install --no-cache-dir ".[postgresql]"

ENV XWEB_EMULATOR_HOST=0.0.0.0 \
    XWEB_EMULATOR_PORT=8080 \
    XWEB_EMULATOR_DATABASE_URL=sqlite:////data/xweb-emulator.db
EXPOSE 8080
ENTRYPOINT ["xweb-emulator"]
CMD ["serve"]
