"""probes.get_mode/answer/parse_many: how a GET ended, from what busybox wget and `timeout` left.
Lines as busybox 1.36 wget prints them."""
import pytest

from hostnet_conformance import probes

REFUSED = "wget: can't connect to remote host (172.18.0.3): Connection refused"
NOT_FOUND = "wget: server returned error: HTTP/1.1 404 Not Found"
NO_ROUTE = "wget: can't connect to remote host (10.244.9.9): No route to host"
BAD_ADDRESS = "wget: bad address 'nowhere.invalid'"
DOWNLOAD_TIMEOUT = "wget: download timed out"


def test_each_mode_from_wgets_words_and_exit_status():
    assert probes.get_mode(0, "") == probes.OK
    assert probes.get_mode(1, REFUSED) == probes.REFUSED
    assert probes.get_mode(1, NOT_FOUND) == probes.HTTP_ERROR
    assert probes.get_mode(1, NO_ROUTE) == probes.UNREACHABLE
    assert probes.get_mode(1, BAD_ADDRESS) == probes.DNS_ERROR
    assert probes.get_mode(1, DOWNLOAD_TIMEOUT) == probes.TIMEOUT
    assert probes.get_mode(143, "") == probes.TIMEOUT      # busybox timeout: SIGTERM
    assert probes.get_mode(124, "") == probes.TIMEOUT      # coreutils timeout
    assert probes.get_mode(-1, "") == probes.EXEC_ERROR    # the exec delivered no exit status
    assert probes.get_mode(None, "") == probes.EXEC_ERROR
    assert probes.get_mode(126, "sh: wget: Permission denied") == probes.EXEC_ERROR


def test_words_decide_before_an_exit_status_of_0():
    """Seen in CI: an exec reported exit status 0 with 'Connection refused' on stderr."""
    r = probes.answer(0, "", REFUSED)
    assert (r["ok"], r["mode"]) == (False, probes.REFUSED)


def test_answer_names_what_went_wrong():
    assert probes.answer(143, "", "")["error"] == "timed out"
    assert probes.answer(0, "ok\n", "") == {"ok": True, "mode": "ok", "body": "ok\n", "error": ""}
    assert probes.answer(-1, "", "")["error"] == "exit code -1"


def test_parse_many_gives_each_url_its_mode_and_exec_error_when_its_block_is_missing():
    m = "@@hnc-x"
    text = f"{m} 0 0\nnode_exporter_build_info 1\n{m} err\n{m} 1 1\n{m} err\n{REFUSED}\n"
    got = probes.parse_many(text, m, ["a", "b", "c"], fallback="exec failed")
    assert got["a"]["mode"] == probes.OK and "node_exporter_build_info" in got["a"]["body"]
    assert got["b"]["mode"] == probes.REFUSED
    assert got["c"] == {"ok": False, "mode": probes.EXEC_ERROR, "body": "", "error": "exec failed"}


def test_url_brackets_ipv6():
    assert probes.url("10.0.0.1", 20000, "/metrics") == "http://10.0.0.1:20000/metrics"
    assert probes.url("fd00::1", 10248, "/healthz") == "http://[fd00::1]:10248/healthz"
    assert probes.url("[fd00::1]", 80) == "http://[fd00::1]:80/"


def test_parse_many_without_final_newlines():
    m = "@@hnc-y"
    text = f"{m} 0 0\nok{m} err\n{m} 1 1\n{m} err\n{REFUSED}{m} 2 143\n{m} err\n"
    got = probes.parse_many(text, m, ["a", "b", "c"], fallback="-")
    assert (got["a"]["body"], got["a"]["mode"]) == ("ok", probes.OK)
    assert (got["b"]["mode"], got["b"]["error"]) == (probes.REFUSED, REFUSED)
    assert got["c"]["mode"] == probes.TIMEOUT


# ---- an exec's exit status, from its error channel (a metav1.Status) as the kubelet sends it
def test_an_exec_status_gives_the_exit_code_or_says_the_command_never_ran():
    from hostnet_conformance import kube
    ok = '{"metadata":{},"status":"Success"}'
    failed = ('{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error '
              'executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":'
              '[{"reason":"ExitCode","message":"3"}]}}')
    assert kube.exec_status(ok, "x") == 0 and kube.exec_status(failed, "x") == 3
    # seen on a cluster with simulated nodes: the pod's node address is loopback, so the API server
    # asked its own kubelet, which has no such pod. The client's own returncode said
    # `invalid literal for int() with base 10: 'unable to upgrade connection: pod does not exist'`.
    for text, said in [("unable to upgrade connection: pod does not exist", "unable to upgrade connection: pod does not exist"),
                       ('{"metadata":{},"status":"Failure","message":"unable to upgrade connection: container not found'
                        ' (\\"probe\\")","reason":"InternalError"}', 'unable to upgrade connection: container not found ("probe")'),
                       ("", "no status")]:
        with pytest.raises(kube.ExecFailed) as e:
            kube.exec_status(text, "exec sh -c true in ns/probe")
        assert str(e.value) == f"exec sh -c true in ns/probe: {said}"
        assert e.value.code == "cluster_error"   # ERROR, never FAIL
