# The in-cluster runner: Debian's Python, and the suite's wheel with its dependencies installed
# from a local wheelhouse (no index is reached while building). Runs as nobody.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/hnc
COPY wheels/ /wheels/
RUN /opt/hnc/bin/pip install -q --disable-pip-version-check --no-index --find-links /wheels \
      /wheels/hostnet_conformance-*.whl \
 && rm -rf /wheels /root/.cache
ENV PATH=/opt/hnc/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1
USER 65534:65534
WORKDIR /tmp
ENTRYPOINT ["python3", "-m", "hostnet_conformance.runner"]
