import pytest

from hostnet_conformance import options
from hostnet_conformance.options import (
    UsageError,
    parse_claim_ids,
    parse_port,
    validate_cluster_name,
    validate_image_ref,
    validate_port_base,
)


def one_line_usage_error(fn, *args, match: str) -> str:
    with pytest.raises(UsageError, match=match) as e:
        fn(*args)
    assert "\n" not in str(e.value)
    return str(e.value)


@pytest.mark.parametrize("value,port", [("1", 1), ("20000", 20000), (" 65535 ", 65535)])
def test_parse_port_accepts(value, port):
    assert parse_port(value) == port


@pytest.mark.parametrize("value", ["abc", "0", "65536", "-1", "", "20000.5"])
def test_parse_port_rejects(value):
    msg = one_line_usage_error(parse_port, value, match="is not a port number")
    assert msg == f"--host-port-base: {value!r} is not a port number (1-65535)"


def test_parse_port_names_the_option():
    with pytest.raises(UsageError, match="^--metrics-port: 'x'"):
        parse_port("x", "--metrics-port")


def test_port_base():
    assert validate_port_base(20000, 50) == 20000
    assert validate_port_base(65535 - 9, 10) == 65526
    assert validate_port_base(32768, 10) == 32768
    assert validate_port_base(29990, 10) == 29990
    one_line_usage_error(validate_port_base, 80, 10, match="below 1024")
    one_line_usage_error(validate_port_base, 65530, 10, match="would pass 65535")
    one_line_usage_error(validate_port_base, 29995, 10, match="NodePort range 30000-32767")
    one_line_usage_error(validate_port_base, 32767, 1, match="NodePort")


@pytest.mark.parametrize("name", ["kind", "hnc-1", "a.b", "0x", "a" * 50])
def test_cluster_name_accepts(name):
    assert validate_cluster_name(name) == name


@pytest.mark.parametrize("name", ["", "Kind", "has_underscore", "-lead", ".lead", "a b", "a" * 51])
def test_cluster_name_rejects(name):
    one_line_usage_error(validate_cluster_name, name, match="not a valid kind cluster name")


def test_claim_ids():
    assert parse_claim_ids("c1, C7,c1,,C15") == ["C1", "C7", "C15"]
    msg = one_line_usage_error(parse_claim_ids, "C1,C99", match="unknown claim 'C99'")
    assert "C1, C2" in msg and "C15" in msg
    one_line_usage_error(parse_claim_ids, " , ", match="no claim ids")


@pytest.mark.parametrize("ref", [
    "prom/node-exporter:v1.8.2",
    "example.com/prometheus/node-exporter:v1.8.2",
    "localhost:5000/node-exporter:v1",
    "busybox@sha256:" + "a" * 64,
    "prom/node-exporter:v1.8.2@sha256:" + "0" * 64,
])
def test_image_ref_accepts(ref):
    assert validate_image_ref(ref) == ref


@pytest.mark.parametrize("ref,why", [
    ("", "not an image reference"),
    ("prom/node exporter:v1", "not an image reference"),
    ("prom/node-exporter", "no tag or digest"),
    ("localhost:5000/node-exporter", "no tag or digest"),
    ("busybox@sha256:", "no tag or digest"),
])
def test_image_ref_rejects(ref, why):
    one_line_usage_error(validate_image_ref, ref, match=why)


@pytest.mark.parametrize("value", ["mirror.example:5000", "mirror.example/team/hnc", "localhost:5000/x",
                                   "registry.local", "localhost"])
def test_image_registry_accepted(value):
    assert options.parse_registry(value + "/") == value


@pytest.mark.parametrize("value", ["", "mirror", "Mirror.Example", "mirror.example/Team", "https://mirror.example",
                                   "mirror.example:port", "mirror example"])
def test_image_registry_refused_in_one_line(value):
    with pytest.raises(options.UsageError, match="--image-registry"):
        options.parse_registry(value)


@pytest.mark.parametrize("image,expected", [
    ("prom/node-exporter:v1.8.2", "mirror.example/hnc/prom/node-exporter:v1.8.2"),
    ("busybox:1.36.1", "mirror.example/hnc/busybox:1.36.1"),
    ("quay.io/prometheus/node-exporter:v1.8.2", "mirror.example/hnc/prometheus/node-exporter:v1.8.2"),
    ("localhost:5000/busybox@sha256:" + "a" * 64, "mirror.example/hnc/busybox@sha256:" + "a" * 64),
])
def test_with_registry(image, expected):
    assert options.with_registry(image, "mirror.example/hnc") == expected
