# Stand-in for upstream's agnhost and jessie-dnsutils images (test/images/agnhost/Dockerfile: a base
# with bind-tools, curl, netcat-openbsd, iproute2, bash), from Debian packages, plus the agnhost
# binary built from the pinned Kubernetes module. build-e2e.sh gives the agnhost tag its ENTRYPOINT.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      curl netcat-openbsd bind9-dnsutils iproute2 iputils-ping procps bash ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY agnhost /agnhost
