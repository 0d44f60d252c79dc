# Minimal base for static Go binaries: CA bundle, passwd/group, /tmp. No shell.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE} AS src
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && mkdir -p /out/etc/ssl/certs /out/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >/out/etc/passwd \
 && printf 'root:x:0:\nnogroup:x:65534:\n' >/out/etc/group && chmod 1777 /out/tmp
FROM scratch
COPY --from=src /out/ /
