"""A real, reduced-size training run on Swarm-v0."""

import pytest

import actorcritic


@pytest.mark.learning
def test_ddpg_learns_to_flock():
    """Swarm-v0 (small preset, eta = 0.5) with the CLI's swarm defaults and a reduced budget: the learned
    policy orders the swarm nearly as well as the Vicsek rule, and far better than random turns."""
    from actorcritic.envs import TRAINING_DEFAULTS
    from actorcritic.envs.swarm.env import BASELINES, SwarmEnv
    from actorcritic.runtime.evaluation import evaluate_multi_agent

    defaults = {
        k: v for k, v in TRAINING_DEFAULTS["Swarm-v0"].items() if k in actorcritic.DDPGConfig.__dataclass_fields__
    }
    cfg = actorcritic.DDPGConfig(**{**defaults, "eval_interval": 0})
    agent = actorcritic.DDPG("Swarm-v0", cfg, seed=0, env_kwargs={"preset": "small", "noise": 0.5}).learn(60_000)
    learned = agent.evaluate(3, round_id=-1).metrics["order_parameter"]
    env = SwarmEnv(preset="small", noise=0.5)
    rule = {name: evaluate_multi_agent(env, lambda obs, p=BASELINES[name]: p(env), 3, 0, -1, ("order_parameter",))
            for name in ("vicsek", "random")}  # fmt: skip
    vicsek, random = (rule[name].metrics["order_parameter"] for name in ("vicsek", "random"))
    assert learned >= 0.95 * vicsek and learned > random + 0.5, (learned, vicsek, random)
