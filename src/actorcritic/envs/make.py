"""Make single and vector envs from a Gymnasium id or a user's ``module.path:Class``.

Vector envs run with autoreset disabled: the training loop resets finished envs itself, each episode
seeded from (seed, env index, episode index). That keeps the true final observation of every episode
in the step's output (no crossing transition to filter out) and makes every episode reproducible
after a resume.

Every single env comes wrapped so that an exception it raises in ``reset``, ``step`` or ``render`` is one
``EnvError`` that names the env, the call and the exception (the CLI's one ``error:`` line). What an env
returns that its vector env cannot use (3 values from ``step``, an observation of the wrong shape) becomes
one too: ``result_error``, called where the training envs are stepped.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from actorcritic.errors import EnvError, TrainingDiverged, UserError

# Extras that provide the envs of a Gymnasium module; named in the error when one is missing.
_EXTRAS = {"mujoco": "mujoco", "box2d": "box2d"}


def _make_user_env(spec: str, render_mode: str | None = None, **kwargs) -> gym.Env:
    module_name, _, class_name = spec.partition(":")
    if not all(part.isidentifier() for part in module_name.split(".")) or not class_name or ":" in class_name:
        raise UserError(
            f"env '{spec}' is neither module.path:Class (a module, one ':', a class in it) nor a Gymnasium id"
        )
    if re.fullmatch(r".+-v\d+", class_name):  # Gymnasium's own "module:EnvId" (import, then make)
        return _make_registered(spec, render_mode, **kwargs)
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())  # like `python -m`: a module next to the user is found
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise UserError(f"cannot import module '{module_name}' for env '{spec}': {e}") from None
    except SyntaxError as e:  # in the module or in one it imports: e.filename says which
        raise UserError(
            f"cannot import module '{module_name}' for env '{spec}': {type(e).__name__} in {e.filename}, "
            f"line {e.lineno}: {e.msg}"
        ) from None
    except Exception as e:  # the module's own code raised while it was imported
        raise EnvError(f"env '{spec}' raised {type(e).__name__} while importing module '{module_name}': {e}") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise UserError(f"module '{module_name}' has no attribute '{class_name}' (env '{spec}')")
    if render_mode is not None:  # passed where the class takes it (Gymnasium's convention), else set after
        params = inspect.signature(cls).parameters
        if "render_mode" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
            kwargs["render_mode"] = render_mode
    try:
        env = cls(**kwargs)
        if render_mode is not None and getattr(env, "render_mode", None) is None:
            env.render_mode = render_mode
    except Exception as e:
        raise UserError(f"could not create env '{spec}': {type(e).__name__}: {e}") from None
    if not isinstance(env, gym.Env):
        raise UserError(f"'{spec}' is not a gymnasium.Env (got {type(env).__name__})")
    return env


def make_env(env_id: str, render_mode: str | None = None, **kwargs) -> gym.Env:
    """One env from a registered id (``Pendulum-v1``) or ``module.path:Class``."""
    if ":" in env_id and "/" not in env_id.split(":")[0]:
        env = _make_user_env(env_id, render_mode, **kwargs)
    else:
        env = _make_registered(env_id, render_mode, **kwargs)
    return env if isinstance(env, gym.vector.VectorEnv) else NamedErrors(env, env_id)


class NamedErrors(gym.Wrapper):
    """Turns an exception from the env's ``reset``, ``step`` or ``render`` into an ``EnvError`` naming them."""

    def __init__(self, env: gym.Env, env_id: str):
        super().__init__(env)
        self.env_id = env_id

    def _call(self, call: str, fn: Callable[..., Any], *args: Any, keep: tuple[type, ...] = (), **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``; our own errors, and the types in ``keep``, pass through unchanged."""
        try:
            return fn(*args, **kwargs)
        except (UserError, TrainingDiverged, *keep):
            raise
        except Exception as e:
            raise EnvError(f"env '{self.env_id}' raised {type(e).__name__} in {call}: {e}") from e
        except SystemExit as e:  # not the env's to end the program: the run stops as for any error of the env's
            raise EnvError(f"env '{self.env_id}' called sys.exit({e.code!r}) in {call}") from e

    def reset(self, **kwargs: Any) -> Any:
        return self._call("reset", self.env.reset, **kwargs)

    def step(self, action: Any) -> Any:
        return self._call("step", self.env.step, action)

    def render(self) -> Any:
        # a missing renderer, or none at all: the video writer names the fix
        return self._call("render", self.env.render, keep=(gym.error.DependencyNotInstalled, NotImplementedError))


# What each call must return, named where a vector env could not use what an env returned.
_RETURNS = {"step": "(obs, reward, terminated, truncated, info)", "reset": "(obs, info)"}
# Errors from a vector env's call that are not about what an env returned: ours (an env's own exception is
# an EnvError already), Gymnasium's, a vector env's misuse, a worker process that died (its pipe's error).
_NOT_A_RESULT = (UserError, TrainingDiverged, gym.error.Error, gym.error.AlreadyPendingCallError,
                 gym.error.NoAsyncCallError, gym.error.ClosedEnvironmentError, EOFError, OSError)  # fmt: skip


def result_error(
    envs: gym.vector.VectorEnv, env_id: str, call: str, error: Exception, actions: Any = None
) -> EnvError | None:
    """The ``EnvError`` for ``error``, raised by ``envs.step(actions)`` or ``envs.reset`` (``call``) while it
    stored or batched what its envs returned: a step that returns 3 values, an observation of the wrong
    shape, a reward that is a string. None where the env is not to blame, or not for that: the errors in
    ``_NOT_A_RESULT``, actions of the wrong shape (the runner's seeds and reset masks fit by construction),
    a vector env of the env's own (Swarm-v0: its exceptions are its code's). Called on the error path only:
    stepping costs nothing more than a try."""
    if (
        not isinstance(envs, gym.vector.SyncVectorEnv | gym.vector.AsyncVectorEnv)
        or isinstance(error, _NOT_A_RESULT)
        or (actions is not None and np.shape(actions) != envs.action_space.shape)
    ):
        return None
    reward = " and a number as reward" if call == "step" else ""
    return EnvError(
        f"env '{env_id}' returned a malformed result from {call}: {type(error).__name__}: {error}; {call} must "
        f"return {_RETURNS[call]} with obs in {envs.single_observation_space}{reward}"
    )


def _make_registered(env_id: str, render_mode: str | None = None, **kwargs) -> gym.Env:
    spec = gym.registry.get(env_id)
    if (
        spec is not None and spec.entry_point is None and spec.vector_entry_point is not None
    ):  # a multi-agent vector env (Swarm-v0)
        creator = gym.envs.registration.load_env_creator(spec.vector_entry_point)
        try:
            return creator(**{**spec.kwargs, **kwargs}, render_mode=render_mode)
        except TypeError as e:
            raise UserError(f"bad env option for '{env_id}': {e}") from None
    try:
        return gym.make(env_id, render_mode=render_mode, **kwargs)
    except gym.error.DependencyNotInstalled as e:
        extra = next((x for key, x in _EXTRAS.items() if key in str(e).lower()), None)
        if extra is None:
            raise UserError(f"env '{env_id}' needs an optional dependency: {e}") from None
        raise UserError(
            f"env '{env_id}' needs the [{extra}] extra: pip install -e \".[{extra}]\" "
            f'(or pip install "actorcritic[{extra}]")'
        ) from None
    except gym.error.Error as e:
        raise UserError(f"unknown environment '{env_id}': {e}") from None
    except ModuleNotFoundError as e:
        raise UserError(f"cannot import module for env '{env_id}': {e}") from None
    except Exception as e:  # the env's own constructor refused its options (e.g. an unknown --env-kwargs key)
        raise EnvError(f"env '{env_id}' raised {type(e).__name__} in make: {e}") from None


def make_vector_env(env_id: str, num_envs: int, vectorization: str = "sync", **kwargs) -> gym.vector.VectorEnv:
    """``num_envs`` copies of an env, with autoreset disabled (the loop resets them, seeded).

    A multi-agent env that is a vector env itself (one sub-env per agent) is returned as it is.
    """
    env = make_env(env_id, **kwargs)
    if isinstance(env, gym.vector.VectorEnv):
        if env.num_envs != num_envs:
            raise UserError(f"env '{env_id}' has {env.num_envs} agents, not {num_envs}")
        return env
    env.close()
    make_fns: list[Callable[[], gym.Env]] = [lambda: make_env(env_id, **kwargs) for _ in range(num_envs)]
    mode = gym.vector.AutoresetMode.DISABLED
    if vectorization == "async":
        # A worker's exception reaches the caller (an env's as the EnvError that names it); Gymnasium's log of
        # it, some 30 lines of the worker's traceback on stderr, would only repeat it before the error line.
        warnings.filterwarnings("ignore", r".*ERROR: ", UserWarning, r"gymnasium\.vector\.async_vector_env")
        return gym.vector.AsyncVectorEnv(make_fns, autoreset_mode=mode)
    return gym.vector.SyncVectorEnv(make_fns, autoreset_mode=mode)
