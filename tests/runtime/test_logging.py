import gc
import sys
import warnings

from actorcritic.runtime.logging import RunLogger, read_csv


def test_a_logger_collected_without_close_closes_its_files_quietly(tmp_path, monkeypatch):
    """An agent dropped without close() sits in reference cycles; when the garbage collector frees it, inside
    whatever code runs then (a test under filterwarnings("error"), say), its CSVs close without a
    ResourceWarning, and every row written is on disk."""
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    logger = RunLogger(tmp_path, ["critic_loss"])
    logger.log({"step": 100, "wall_time": 1.5, "critic_loss": 0.25})
    logger.log_episode(100, 0, -1200.0, 200)
    logger.tb.close()  # TensorBoard's writer thread is not what this test is about
    logger.cycle = logger  # only the cyclic collector frees it, as with an agent
    del logger
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gc.collect()
    assert unraisable == []
    assert [r["critic_loss"] for r in read_csv(tmp_path / "metrics.csv")] == [0.25]
    assert [r["return"] for r in read_csv(tmp_path / "episodes.csv")] == [-1200.0]


def test_close_closes_the_files_once(tmp_path):
    logger = RunLogger(tmp_path, [])
    files = logger._metrics_file, logger._episodes_file
    logger.close()
    assert all(f.closed for f in files) and not logger._close_files.alive


def test_tensorboard_tags_group_the_columns(tmp_path):
    """The loop's columns are charts/, the algorithm's losses/, an env's own measures env/ (and eval/ for
    their evaluation, with the evaluation's return)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logger = RunLogger(tmp_path, ["critic_loss", "order_parameter", "eval_order_parameter"], None, ("order_parameter",))
    logger.log({"step": 100, "wall_time": 1.0, "sps": 100.0, "critic_loss": 0.5, "order_parameter": 0.9,
                "eval_order_parameter": 0.95, "eval_return_mean": -10.0})  # fmt: skip
    logger.close()
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert sorted(events.Tags()["scalars"]) == [
        "charts/SPS", "env/order_parameter", "eval/order_parameter", "eval/return_mean", "losses/critic_loss"
    ]  # fmt: skip
