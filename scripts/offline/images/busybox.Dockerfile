# Stand-in for the upstream busybox image, from Debian's static busybox: sh, wget, nslookup, nc, hostname, ip.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE} AS src
RUN apt-get update && apt-get install -y --no-install-recommends busybox-static && mkdir -p /out/bin /out/tmp /out/etc \
 && cp /bin/busybox /out/bin/busybox && chmod 1777 /out/tmp \
 && printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >/out/etc/passwd \
 && printf 'root:x:0:\nnogroup:x:65534:\n' >/out/etc/group
FROM scratch
COPY --from=src /out/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
CMD ["sh"]
