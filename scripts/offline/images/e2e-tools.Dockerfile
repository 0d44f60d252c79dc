# Stand-in for the package layer of upstream's agnhost image and for jessie-dnsutils: the tools
# upstream's test/images/agnhost/Dockerfile installs with apk (bind-tools, curl, netcat-openbsd,
# iproute2, iperf, bash), from Debian packages. agnhost.Dockerfile builds the agnhost image on it.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      curl netcat-openbsd bind9-dnsutils iproute2 iperf iputils-ping procps bash ca-certificates \
 && rm -rf /var/lib/apt/lists/*
