"""The in-cluster runner's last step: after the run (whose teardown set waiting.STOPPING) it still
waits for scripts/in-cluster.sh to collect the results. CI caught the run's stop ending that wait
(`Stopped: the run is ending: stopped waiting for the results to be collected`, the Job Failed)."""
from hostnet_conformance import runner, waiting


def test_the_wait_for_collection_outlives_the_runs_stop(tmp_path, monkeypatch):
    def suite_run(args):   # what the plugin's teardown does at the end of every run
        waiting.stop_run(0)
        (tmp_path / "collected").write_text("")   # in-cluster.sh has copied the results
        return 0

    monkeypatch.setattr(runner, "RESULTS", tmp_path)
    monkeypatch.setattr(runner.cli, "main", suite_run)
    monkeypatch.setenv("HNC_WAIT_FOR_COLLECTION", "5")
    try:
        assert runner.main([]) == 0
        assert (tmp_path / "done").read_text() == str(tmp_path / "results.tar.gz")
    finally:
        waiting.begin_run()
