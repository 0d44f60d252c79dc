# Base for network agents (kube-proxy, kube-router): iptables (nft mode, as the node), nft (kube-proxy's
# nftables mode and the node's safety net), ipset, ip, conntrack.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      iptables nftables ipset iproute2 conntrack kmod ca-certificates \
 && rm -rf /var/lib/apt/lists/*
