"""Real training runs of the on-policy family: REINFORCE, A2C, PPO and A3C (2 worker processes) solve CartPole-v1
(deterministic evaluation mean >= 475 over 10 episodes), and PPO reaches >= -400 on Pendulum-v1.

Each run stops at the first evaluation (every 5,000 steps) that reaches its target, within a budget
with margin over the steps measured on this machine (see the closing note of the on-policy issue), then
the policy is evaluated again on 10 fresh episodes the training evals never saw. A3C's workers run
asynchronously, so its runs differ from one to the next, and its policy moves on between evaluations: a
run that stopped at its first solved evaluation scored 443.6 on the fresh episodes under load, one that
stopped at its second 421.2 (2026-12-02), and one asked for three in a row first reached 475 at step 5,120
and then never three times running in 150,000 steps (CI, 2026-12-03). So A3C stops at the first solved
evaluation, as the others do, and its fresh evaluation asks for A3C_FRESH.

That fresh evaluation asks for a little less than the target (CARTPOLE_FRESH): a run stops as soon as a
policy first balances the pole through one set of 10 episodes, and on other start states such a policy
still drops an episode now and then, so a second, independent 10-episode mean often falls below 475 (3
of 8 seeds here, 2 of 8 before). PPO's defaults, seeds 0-7, the stopping and the fresh mean: this engine
500/468, 497/465, 496/499, 498/500, 481/480, 500/500, 494/500, 481/458; the engine before it 483/488,
478/417, 500/500, 479/472, 500/500, 500/500, 500/500, 500/500. 450 still means a policy that balances
the pole to the time limit in nearly every episode (a random one lasts about 22 steps).
"""

import pytest

from actorcritic import A2C, A3C, PPO, REINFORCE, A2CConfig, A3CConfig, PPOConfig, REINFORCEConfig

EVAL = {"eval_interval": 5_000, "eval_episodes": 10, "stop_at_target": True}
CARTPOLE = {"a2c": (A2C, A2CConfig(**EVAL), 100_000), "ppo": (PPO, PPOConfig(**EVAL), 100_000),
            "a3c": (A3C, A3CConfig(**EVAL, num_workers=2), 150_000),
            "reinforce": (REINFORCE, REINFORCEConfig(**EVAL), 150_000)}  # fmt: skip
CARTPOLE_FRESH = 450.0  # the fresh evaluation's bar, below the target 475: see the module docstring
A3C_FRESH = 400.0  # A3C's: a policy that still balances the pole for most of its 500 steps (a random one: ~22)
# Pendulum: SB3 zoo's PPO settings without gSDE (short horizon gamma 0.9, long rollouts, 10 epochs).
PENDULUM = PPOConfig(**{**EVAL, "target_return": -400.0}, num_envs=4, num_steps=1024, gamma=0.9, update_epochs=10,
                     num_minibatches=64, ent_coef=0.0, learning_rate=1e-3, anneal_lr=False)  # fmt: skip


@pytest.mark.learning
@pytest.mark.parametrize("algo", sorted(CARTPOLE))
def test_solves_cartpole(algo):
    cls, config, budget = CARTPOLE[algo]
    agent = cls("CartPole-v1", config, seed=0)
    agent.learn(budget)
    agent.close()
    assert agent.solved_at_step is not None and agent.global_step < budget, (algo, agent.best_eval_return)
    assert agent.last_eval.mean_return >= 475, (algo, agent.last_eval.returns)
    result = agent.evaluate(10, round_id=-1)
    assert result.mean_return >= (A3C_FRESH if algo == "a3c" else CARTPOLE_FRESH), (algo, result.returns)


@pytest.mark.learning
def test_ppo_reaches_minus_400_on_pendulum():
    agent = PPO("Pendulum-v1", PENDULUM, seed=0).learn(100_000)
    assert agent.solved_at_step is not None, agent.best_eval_return
    result = agent.evaluate(10, round_id=-1)
    assert result.mean_return >= -400, result.returns
