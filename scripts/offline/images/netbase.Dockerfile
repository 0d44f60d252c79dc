# Base for network agents (kube-proxy, kube-router): iptables (nft mode, as the node), ipset, ip, conntrack.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      iptables ipset iproute2 conntrack kmod ca-certificates \
 && rm -rf /var/lib/apt/lists/*
