# One static binary on the static base. BIN is the file in the build context, DEST its path.
ARG BASE
FROM ${BASE}
ARG BIN
ARG DEST
COPY ${BIN} ${DEST}
