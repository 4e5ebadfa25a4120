# Minimal for now; a later change pins Airbyte's Python connector base image by digest and hardens the image.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
WORKDIR /airbyte/integration_code
COPY pyproject.toml README.md ./
COPY source_stripe ./source_stripe
RUN pip install --no-cache-dir .
ENV AIRBYTE_ENTRYPOINT="source-stripe"
ENTRYPOINT ["source-stripe"]
LABEL io.airbyte.name=airbyte/source-stripe
LABEL io.airbyte.version=0.1.0
