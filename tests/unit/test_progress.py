"""runtime/progress.py: the one progress bar, for a training loop's steps and for finished items."""

from actorcritic.runtime.progress import ProgressBar


def test_training_fields_and_rate_limit():
    bar = ProgressBar(1000, completed=100, unit="steps", fields={"sps": "SPS", "ret": "return", "eval": "eval"})
    task = bar.progress.tasks[0]
    assert task.completed == 100 and task.fields == {"sps": "-", "ret": "-", "eval": "-"}
    bar.update(200, sps=1234, ret=-150.25, eval=None)
    assert task.completed == 200 and task.fields == {"sps": "1234", "ret": "-150.2", "eval": "-"}
    bar.update(300, sps=1)  # within 0.1 s of the last: skipped
    assert task.completed == 200
    bar.update(1000, force=True, sps=1)
    assert task.completed == 1000 and task.fields["sps"] == "1"
    bar.close()


def test_counting_items():
    with ProgressBar(3, completed=1, description="sweep", unit="runs", disable=True) as bar:
        bar.advance()
        bar.advance()
        assert bar.progress.tasks[0].completed == 3 and bar.progress.tasks[0].finished


def test_the_training_bar_shows_the_mean_of_the_recent_episodes_as_metrics_csv_does():
    from actorcritic import DDPG
    from actorcritic.runtime.loop import _progress_fields

    agent = DDPG("Pendulum-v1", seed=[0, 1])
    for member, returns in zip(agent.members, ([-100.0, -300.0], [-500.0]), strict=True):
        member.recent_returns.extend(returns)
    assert _progress_fields(agent)["ret"] == "-350.0"  # mean over members of each member's recent mean
    agent.close()
