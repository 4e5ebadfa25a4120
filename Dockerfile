# The connector image. By default it builds on Airbyte's Python connector base image, pinned by digest as
# metadata.yaml's connectorBuildOptions.baseImage; where public images cannot be pulled,
# scripts/build_image_offline.sh passes a locally made Debian base instead (--build-arg BASE_IMAGE=...).
# Either base only has to provide `python3` with the venv module on PATH.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

FROM ${BASE_IMAGE} AS builder
# Airbyte's base may end on its unprivileged user; installing into /opt needs root.
USER root
WORKDIR /build
# A TLS-intercepting proxy's CA arrives as the build secret `extra_ca`, trusted only by the pip runs below and
# written to no layer. pip's own bundle is kept alongside it, so the same build works with and without such a proxy.
RUN python3 -m venv /opt/source-stripe \
 && printf '%s\n' '#!/bin/sh' 'set -e' 'bundle="$(mktemp)"' \
      '/opt/source-stripe/bin/python -c "import pip._vendor.certifi as c; print(open(c.where()).read())" > "$bundle"' \
      'if [ -s /run/secrets/extra_ca ]; then cat /run/secrets/extra_ca >> "$bundle"; fi' \
      'PIP_CERT="$bundle" /opt/source-stripe/bin/pip install --no-cache-dir --disable-pip-version-check "$@"' \
      'rm -f "$bundle"' > /build/pip-install \
 && chmod +x /build/pip-install
# Dependencies first, from pyproject.toml alone, so a change to the connector's code reuses this layer.
COPY pyproject.toml ./
RUN --mount=type=secret,id=extra_ca \
    /opt/source-stripe/bin/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && ./pip-install --requirement requirements.txt
COPY source_stripe ./source_stripe
# Third-party packages' own test suites are never imported at run time and weigh tens of megabytes.
RUN --mount=type=secret,id=extra_ca \
    ./pip-install --no-deps . \
 && /opt/source-stripe/bin/pip uninstall --yes --quiet pip \
 && find /opt/source-stripe/lib -depth -type d -path '*/site-packages/*/tests' -exec rm -rf {} +

FROM ${BASE_IMAGE}
USER root
# Connectors run unprivileged; Airbyte's base already has this user, a bare Debian base does not.
RUN getent passwd 1000 >/dev/null || useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin airbyte
COPY --from=builder /opt/source-stripe /opt/source-stripe
WORKDIR /airbyte/integration_code
ENV PATH="/opt/source-stripe/bin:${PATH}" \
    AIRBYTE_ENTRYPOINT="/opt/source-stripe/bin/source-stripe"
ENTRYPOINT ["/opt/source-stripe/bin/source-stripe"]
LABEL io.airbyte.name=airbyte/source-stripe \
      io.airbyte.version=0.3.0
USER 1000:1000
