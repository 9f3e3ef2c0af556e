"""record_video: deterministic evaluation episodes as a GIF or an MP4, one frame per env step."""

import sys

import numpy as np
import pytest

from actorcritic import DDPG, PPO, DDPGConfig, PPOConfig
from actorcritic.envs import make_env
from actorcritic.errors import UserError
from actorcritic.runtime.video import VIDEO_EXTRA, record_video

OFF = {"hidden_sizes": (16, 16), "eval_episodes": 1, "learning_starts": 50, "batch_size": 32, "buffer_size": 1000}


def frame_shape(env_id: str, **env_kwargs) -> tuple[int, ...]:
    """The shape of the frames the env renders in rgb_array mode."""
    env = make_env(env_id, render_mode="rgb_array", **env_kwargs)
    env.reset(seed=0)
    shape = env.render().shape
    env.close()
    return shape


def read_video(path) -> np.ndarray:
    """All frames [n, H, W, 3] of a GIF or MP4."""
    return pytest.importorskip("imageio.v3").imread(path, index=None)


def read_gif(path) -> tuple[np.ndarray, list[int]]:
    """The GIF's frames [n, H, W, 3] and each frame's display time in ms."""
    from PIL import Image

    with Image.open(path) as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    return read_video(path), durations


def needs_video(*modules: str) -> None:
    """The [video] extra: imageio (+ imageio-ffmpeg for MP4); pygame renders the classic-control envs."""
    for module in ("imageio", *modules):
        pytest.importorskip(module)


def test_pendulum_gif_has_one_frame_per_step(tmp_path, capsys):
    needs_video("pygame")
    agent = DDPG("Pendulum-v1", DDPGConfig(**OFF, eval_interval=100), seed=0, env_kwargs={"max_episode_steps": 20})
    agent.learn(100)  # its evaluations made an eval env that does not render; the video makes its own
    lengths = agent.evaluate(2, round_id=-1, seed=7).lengths  # the episodes the video shows
    kept = list(agent.members[0].eval_envs)
    assert lengths == [20, 20]
    capsys.readouterr()

    path = record_video(agent, tmp_path / "pendulum.gif", episodes=2, fps=20, seed=7)

    assert path == tmp_path / "pendulum.gif" and list(tmp_path.iterdir()) == [path]  # no temp file left
    assert capsys.readouterr().out == ""
    frames, durations = read_gif(path)
    # The state after every step, the reset states not included; a swinging pendulum never repeats a frame.
    assert len(frames) == sum(lengths) == 40
    assert frames.shape[1:] == frame_shape("Pendulum-v1") == (500, 500, 3)
    assert durations == [50] * 40  # 1000 / fps ms each
    assert agent.members[0].eval_envs == kept  # the agent's own eval envs are back
    agent.close()


def test_cartpole_mp4_and_gif(tmp_path):
    needs_video("pygame")
    agent = PPO("CartPole-v1", PPOConfig(hidden_sizes=(16, 16)), seed=1, env_kwargs={"max_episode_steps": 30})
    steps = sum(agent.evaluate(2, round_id=-1, seed=3).lengths)
    shape = frame_shape("CartPole-v1")

    gif, durations = read_gif(record_video(agent, tmp_path / "cartpole.gif", episodes=2, fps=25, seed=3))
    assert gif.shape[1:] == shape == (400, 600, 3)
    # Pillow stores a run of identical frames (a cart at rest) once, shown for the run's time.
    assert len(gif) <= steps and sum(durations) == 40 * steps

    needs_video("imageio_ffmpeg")
    mp4 = read_video(record_video(agent, tmp_path / "cartpole.mp4", episodes=2, fps=25, seed=3))
    assert mp4.shape == (steps, *shape)  # every frame, identical ones too
    assert mp4.dtype == np.uint8 and mp4.std() > 0


def test_swarm_gif_uses_the_swarm_renderer(tmp_path):
    needs_video()
    env_kwargs = {"preset": "small", "episode_steps": 5}
    agent = DDPG("Swarm-v0", DDPGConfig(**OFF), seed=0, env_kwargs=env_kwargs)
    frames, durations = read_gif(record_video(agent, tmp_path / "swarm.gif"))
    assert len(frames) == 5  # one per swarm step (all particles move at once)
    assert frames.shape[1:] == frame_shape("Swarm-v0", **env_kwargs) == (400, 400, 3)
    assert durations == [30] * 5  # fps 30: GIFs keep whole 1/100 s
    agent.close()


@pytest.mark.parametrize("name", ["video.avi", "video", "video.gif.txt"])
def test_only_gif_and_mp4(tmp_path, name):
    agent = DDPG("Pendulum-v1", DDPGConfig(**OFF), seed=0)
    with pytest.raises(UserError, match=r"\.gif or an \.mp4"):
        record_video(agent, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_never_overwritten(tmp_path):
    agent = DDPG("Pendulum-v1", DDPGConfig(**OFF), seed=0)
    path = tmp_path / "video.gif"
    path.write_text("keep me")
    with pytest.raises(UserError, match="already exists"):
        record_video(agent, path)
    assert path.read_text() == "keep me" and list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(
    "module, name", [("imageio", "video.gif"), ("imageio", "video.mp4"), ("imageio_ffmpeg", "video.mp4")]
)
def test_missing_packages_name_the_extra(tmp_path, monkeypatch, module, name):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    agent = DDPG("Pendulum-v1", DDPGConfig(**OFF), seed=0)
    with pytest.raises(UserError) as info:
        record_video(agent, tmp_path / name)
    assert str(info.value) == VIDEO_EXTRA == '--render needs the [video] extra: pip install -e ".[video]"'
    assert list(tmp_path.iterdir()) == []


def test_missing_pygame_names_the_extra(tmp_path, monkeypatch):
    needs_video()
    monkeypatch.setitem(sys.modules, "pygame", None)  # CartPole's render() then raises DependencyNotInstalled
    agent = PPO("CartPole-v1", PPOConfig(hidden_sizes=(16, 16)), seed=1)
    with pytest.raises(UserError) as info:
        record_video(agent, tmp_path / "video.gif")
    assert str(info.value).startswith(VIDEO_EXTRA) and "pygame" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_env_without_frames_is_a_user_error_and_leaves_nothing(tmp_path):
    needs_video()
    agent = DDPG("toy_envs:TerminatingEnv", DDPGConfig(**OFF), seed=0)  # defines no render()
    with pytest.raises(UserError, match="cannot render"):
        record_video(agent, tmp_path / "video.gif")
    assert list(tmp_path.iterdir()) == []
    assert agent.members[0].eval_envs == []


def test_bad_counts(tmp_path):
    agent = DDPG("Pendulum-v1", DDPGConfig(**OFF), seed=0)
    for kwargs in ({"episodes": 0}, {"fps": 0}):
        with pytest.raises(UserError, match="must be >= 1"):
            record_video(agent, tmp_path / "video.gif", **kwargs)
