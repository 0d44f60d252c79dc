# kind's base image (images/base in the kind module) rebuilt from Debian packages:
# Debian's containerd 1.6, runc and CNI plugins stand in for kind's own builds.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      systemd conntrack iptables nftables iproute2 ethtool util-linux mount kmod \
      libseccomp2 pigz bash ca-certificates curl jq procps \
      containerd runc containernetworking-plugins dnsmasq-base \
 && rm -rf /var/lib/apt/lists/*
# kind's files (and ours: hnc-node-dns, the node's resolver on this machine) go in after the packages so dpkg never sees them as changed conffiles
COPY files/ /
RUN chmod 755 /usr/local/bin/* /kind/bin/* \
 && find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete \
 && rm -f /lib/systemd/system/multi-user.target.wants/* \
 && rm -f /etc/systemd/system/*.wants/* \
 && rm -f /lib/systemd/system/local-fs.target.wants/* \
 && rm -f /lib/systemd/system/sockets.target.wants/*udev* \
 && rm -f /lib/systemd/system/sockets.target.wants/*initctl* \
 && rm -f /lib/systemd/system/basic.target.wants/* \
 && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \
 && ln -sf "$(which systemd)" /sbin/init \
 && ln -sf /usr/bin/containerd /usr/local/bin/containerd \
 && ln -sf /usr/bin/containerd-shim-runc-v2 /usr/local/bin/containerd-shim-runc-v2 \
 && ln -sf /usr/bin/ctr /usr/local/bin/ctr \
 && mkdir -p /usr/local/sbin /opt/cni/bin && ln -sf /usr/sbin/runc /usr/local/sbin/runc \
 && for p in /usr/lib/cni/*; do ln -sf "$p" /opt/cni/bin/; done \
 && rm -f /etc/systemd/system/containerd-fuse-overlayfs.service \
 && sed -i '/^OOMScoreAdjust=/d' /etc/systemd/system/containerd.service \
 && sed -i '/^\[proxy_plugins/,/^  address/d' /etc/containerd/config.toml \
 && ctr oci spec \
     | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
     | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json \
 && systemctl enable kubelet.service containerd.service undo-mount-hacks.service hnc-node-dns.service hnc-pod-routes.path \
 && systemctl mask systemd-binfmt.service \
 && mkdir -p /etc/kubernetes/manifests
COPY bin/ /usr/bin/
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
