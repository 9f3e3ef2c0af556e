"""Callbacks: each hook fires at its point of the run with that member's state; returning False stops
training (a group when every member asks); the built-ins stop at a target, on no improvement, and keep
checkpoints every N steps."""

import json

import pytest

import actorcritic
from actorcritic import DDPG, Callback, DDPGConfig, RunState, SaveEvery, StopAtTarget, StopOnNoImprovement
from actorcritic.errors import UserError
from actorcritic.runtime.callbacks import Callbacks
from actorcritic.runtime.evaluation import EvalResult

FAST = {"hidden_sizes": (16, 16), "learning_starts": 100, "batch_size": 16, "eval_episodes": 1}


def small(seed=0, run_dir=None, **overrides) -> DDPG:
    config = DDPGConfig(**{**FAST, "eval_interval": 200, "log_interval": 100, **overrides})
    return DDPG("Pendulum-v1", config, seed=seed, run_dir=run_dir, checkpoint_interval=300)


class Events(Callback):
    """The hooks a user overrides in a subclass, each recorded."""

    def __init__(self):
        self.calls: list[tuple[str, int]] = []
        self.last_state: RunState | None = None

    def _note(self, hook: str, s: RunState) -> None:
        self.calls.append((hook, s.step))
        self.last_state = s

    def on_training_start(self, s):
        self._note("start", s)

    def on_evaluation(self, s):
        self._note("evaluation", s)

    def on_checkpoint(self, s):
        self._note("checkpoint", s)

    def on_training_end(self, s):
        self._note("end", s)


def test_each_hook_fires_at_its_point_with_the_members_state(tmp_path):
    events = Events()
    agent = small(run_dir=tmp_path / "run")
    agent.learn(700, callbacks=[events])
    agent.close()
    assert events.calls == [("start", 0), ("evaluation", 200), ("checkpoint", 300), ("evaluation", 400),
                            ("evaluation", 600), ("checkpoint", 600), ("evaluation", 700), ("checkpoint", 700),
                            ("end", 700)]  # fmt: skip
    s = events.last_state
    assert s.agent is agent and s.member == 0 and s.seed == 0 and s.run_dir == tmp_path / "run"
    assert s.evaluation is agent.last_eval and s.metrics["step"] == 700 and "critic_loss" in s.metrics


def test_on_step_and_on_update_fire_every_turn_only_when_defined():
    class Turns(Callback):
        def __init__(self):
            self.steps, self.updates = [], []

        def on_step(self, s):
            self.steps.append(s.step)

        def on_update(self, s):
            self.updates.append((s.step, s.agent.num_updates))

    turns, evaluation_only = Turns(), Events()
    agent = small()
    assert not Callbacks(agent, [evaluation_only]).on_step and not Callbacks(agent, [evaluation_only]).on_update
    agent.learn(300, callbacks=[turns, evaluation_only])
    assert turns.steps == list(range(1, 301))
    assert [step for step, _ in turns.updates] == list(range(100, 301))  # updates start at learning_starts
    assert turns.updates[-1][1] == agent.num_updates


def test_returning_false_stops_after_that_event_with_a_final_evaluation_and_summary(tmp_path):
    class StopAt(Callback):
        def on_step(self, s):
            return s.step < 250

    agent = small(run_dir=tmp_path / "run")
    agent.learn(1000, callbacks=[StopAt()])
    agent.close()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert agent.global_step == 250 and summary["total_steps"] == 250
    assert agent.last_eval is not None and actorcritic.load(tmp_path / "run").global_step == 250


def test_a_group_stops_when_every_member_asks():
    class StopMember(Callback):
        def __init__(self, members):
            self.members = members

        def on_evaluation(self, s):
            return s.member not in self.members

    one = small(seed=[0, 1])
    one.learn(600, callbacks=[StopMember({0})])
    assert one.global_step == 600  # member 1 goes on, so the group does
    both = small(seed=[0, 1])
    both.learn(600, callbacks=[StopMember({0, 1})])
    assert both.global_step == 200


def test_stop_at_target_stops_at_the_first_evaluation_that_reaches_it():
    agent = small()
    agent.learn(1000, callbacks=[StopAtTarget(-1e9)])
    assert agent.global_step == 200
    never = small()
    never.learn(400, callbacks=[StopAtTarget(1e9)])
    assert never.global_step == 400


def _evaluation_state(agent, member: int, mean_return: float) -> RunState:
    return RunState(agent, 0, member, member, None, {}, EvalResult([mean_return], [200]))


def test_stop_at_a_target_of_its_own_ignores_the_envs():
    agent = small(seed=[0, 1])
    agent.members[0].solved_at_step = 200  # reached the env's target (-200), not this one
    stop = StopAtTarget(-100.0)
    assert stop.on_evaluation(_evaluation_state(agent, 0, -150.0)) is None
    assert stop.on_evaluation(_evaluation_state(agent, 1, -90.0)) is False
    assert stop.on_evaluation(_evaluation_state(agent, 1, -300.0)) is False  # once reached, it stays reached
    assert StopAtTarget().on_evaluation(_evaluation_state(agent, 0, -150.0)) is False  # the env's: solved


def test_stop_on_no_improvement_counts_evaluations_since_each_members_best():
    agent = small(seed=[0, 1])
    stop = StopOnNoImprovement(patience=2, min_delta=1.0)
    answers = [stop.on_evaluation(_evaluation_state(agent, 0, r)) for r in (-500, -400, -399.5, -450, -300, -301, -302)]
    assert answers == [None, None, None, False, None, None, False]
    assert stop.on_evaluation(_evaluation_state(agent, 1, -900)) is None  # member 1 has its own best
    with pytest.raises(UserError, match="patience"):
        StopOnNoImprovement(patience=0)


def test_save_every_keeps_resumable_checkpoints_and_does_not_repeat_after_a_resume(tmp_path):
    run_dir = tmp_path / "run"
    agent = small(run_dir=run_dir)
    agent.learn(500, callbacks=[SaveEvery(200)])
    agent.close()
    saved = sorted(p.name for p in (run_dir / "checkpoints").glob("step_*.pt"))
    assert saved == ["step_200.pt", "step_400.pt"]
    assert actorcritic.load(run_dir / "checkpoints" / "step_400.pt").global_step == 400
    resumed = actorcritic.load(run_dir)
    resumed.resume_in(run_dir)
    save = SaveEvery(200)
    resumed.learn(300, callbacks=[save])
    resumed.close()
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("step_*.pt")) == [*saved, "step_600.pt", "step_800.pt"]
    with pytest.raises(UserError, match="run directory"):
        small().learn(300, callbacks=[SaveEvery(200)])


def test_something_that_is_not_a_callback_is_refused():
    with pytest.raises(UserError, match="not a callback"):
        small().learn(100, callbacks=[print])


def test_config_patience_and_stop_at_target_add_the_built_ins():
    agent = small(patience=1, eval_interval=100)
    agent.learn(2000)
    assert agent.global_step < 2000  # one evaluation without a new best stops it
    no_target = small()
    no_target.target_return = None  # an env without a reward threshold
    with pytest.raises(UserError, match="needs a target return"):
        no_target.learn(100, callbacks=[StopAtTarget()])
    assert no_target.global_step == 0  # refused before training
