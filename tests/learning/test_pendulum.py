"""Real training runs: each off-policy algorithm's default config solves Pendulum-v1 within a budget.

Budgets come from bench/steps_to_solve.py (seeds 0-4, steps at the first eval >= -200, 2026-11-21):
DDPG 3,500-4,000, TD3 5,500-7,500, SAC 3,500-5,000. Each test trains until its evaluation reaches
-200 (``stop_at_target``), within a budget with margin, then evaluates the policy it stopped with on
10 fresh episodes, which the training evals never saw.
"""

import pytest

import actorcritic

BUDGETS = {"ddpg": 8_000, "td3": 10_000, "sac": 8_000}


@pytest.mark.learning
@pytest.mark.parametrize("algo", sorted(BUDGETS))
def test_default_config_solves_pendulum(algo):
    cls = actorcritic.ALGOS[algo]
    agent = cls("Pendulum-v1", cls.config_cls(stop_at_target=True), seed=0).learn(BUDGETS[algo])
    assert agent.solved_at_step is not None, algo
    result = agent.evaluate(10, round_id=-1)  # the policy it stopped with, on episodes it never saw
    assert result.mean_return >= -200, (algo, agent.solved_at_step, result.returns)


@pytest.mark.learning
def test_every_member_of_a_seed_group_solves_pendulum():
    """Two DDPG seeds trained as one batched group, with the single run's budget: each member solves
    it (its own evaluation reaches -200), as a run with its seed does alone, and the group stops once
    both have. (Two, not four: the test's cost grows with the members, and four took 230 s of CI's time.)

    A member's fresh evaluation right after its first eval at -200 scatters around that threshold (seeds
    4-7 stopped at -222, -196, -202, -197 on ten episodes they never saw, 2026-12-02): ten episodes
    vary by about 25 and DDPG's evaluations swing by more (-185 then -632 in the suite's runs). So the
    fresh check asks for a learned swing-up, -300, where an untrained policy scores about -1,200. A
    member leaves its solo run's path only by float rounding (test_members), after about 90 updates.
    """
    cls = actorcritic.DDPG
    group = cls("Pendulum-v1", cls.config_cls(stop_at_target=True), seed=[4, 5]).learn(BUDGETS["ddpg"])
    assert all(m.solved_at_step is not None for m in group.members), [m.solved_at_step for m in group.members]
    results = group.evaluate_members(10, round_id=-1)
    assert all(r.mean_return >= -300 for r in results), [r.mean_return for r in results]
