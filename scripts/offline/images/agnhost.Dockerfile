# Stand-in for upstream's agnhost image (k8s.io/kubernetes test/images/agnhost/Dockerfile, Linux):
# the e2e tools image (its apk packages from Debian) plus everything upstream's Dockerfile puts in
# the image, at the same paths, with the same EXPOSE, ENTRYPOINT and CMD.
# build-e2e.sh fills the build context with each COPY source below at the path it has in upstream's
# test/images/agnhost directory: agnhost, built from the pinned module; porter/localhost.{crt,key},
# copied from the module (porter's TLS ports serve with them, read from its working directory, /);
# coredns, the cluster's own CoreDNS build (scripts/offline/build-go-tools.sh), in place of the
# release archive upstream ADDs from a URL and unpacks to /coredns.
# tests/test_offline_agnhost.py checks this file against upstream's.
ARG TOOLS_IMAGE
FROM ${TOOLS_IMAGE}

# PORT 80 needed by: test-webserver
# PORT 8080 needed by: netexec, nettest, resource-consumer, resource-consumer-controller
# PORT 8081 needed by: netexec
# PORT 9376 needed by: serve-hostname
# PORT 5000 needed by: grpc-health-checking
EXPOSE 80 8080 8081 9376 5000

# upstream: `ln -s /usr/bin/iperf /usr/local/bin/iperf` after its apk add; /uploads for netexec;
# user-defined-in-image (uid 1000, its own group 1000) in group-defined-in-image (gid 50000), which
# the SupplementalGroups e2e specs expect (`id -G` gives 1000 50000)
RUN ln -s /usr/bin/iperf /usr/local/bin/iperf \
 && mkdir /uploads \
 && groupadd -g 1000 user-defined-in-image \
 && groupadd -g 50000 group-defined-in-image \
 && useradd -u 1000 -g 1000 -G group-defined-in-image -m user-defined-in-image

COPY coredns /coredns
COPY porter/localhost.crt /localhost.crt
COPY porter/localhost.key /localhost.key
COPY agnhost /agnhost

# the entrypoint-tester specs run /agnhost-2
RUN ln -s agnhost /agnhost-2

ENTRYPOINT ["/agnhost"]
CMD ["pause"]
