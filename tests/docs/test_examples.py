"""Every example on the site runs, on short budgets (tests/doc_examples.py says how); the README's are the site's."""

import contextlib
import json
import os
import subprocess
import sys

import pytest
from doc_examples import FLAGS, KNOWN_LANGS, ROOT, SHELL_LANGS, cost, fences, pages, shell_commands, shorten

README = ROOT / "README.md"
RUNNABLE = [page for page in pages() if page != README and any(f.runs for f in fences(page))]


def _name(page):
    return str(page.relative_to(ROOT))


JOBS = 2  # processes sharing the pages: CI's cores


def run_pages(selected, where, jobs):
    """Runs the pages' examples, the longest first, in ``jobs`` processes that share them out (torch is
    imported once per process, not per page); their results by page, and the processes' output."""
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        str(ROOT / "tests" / "doc_examples.py"),
        *map(str, sorted(selected, key=cost, reverse=True)),
    ]
    logs = [where / f"process{i}.log" for i in range(min(jobs, len(selected)))]
    with contextlib.ExitStack() as stack:
        procs = [
            subprocess.Popen(
                command, cwd=where, env=env, stdout=stack.enter_context(log.open("w")), stderr=subprocess.STDOUT
            )
            for log in logs
        ]
        try:
            for proc in procs:
                proc.wait(timeout=900)
        finally:
            for proc in procs:
                proc.kill()
    found = {r["page"]: r for r in (json.loads(p.read_text()) for p in (where / "results").glob("*.json"))}
    return found, "\n".join(log.read_text() for log in logs)


@pytest.fixture(scope="module")
def results(request, tmp_path_factory):
    """The examples' result for a page. The first call runs every selected page's examples; under
    pytest-xdist (whose workers each run a share of the tests) each call runs its own page."""
    found, output, ran = {}, "", set()

    def result(page):
        nonlocal output
        alone = bool(os.environ.get("PYTEST_XDIST_WORKER"))
        if page not in ran and (alone or not ran):
            selected = [page] if alone else [
                item.callspec.params["page"] for item in request.session.items if item.originalname == "test_examples_run"
            ]  # fmt: skip
            more, output = run_pages(selected, tmp_path_factory.mktemp("doc-examples"), 1 if alone else JOBS)
            found.update(more)
            ran.update(selected)
        return found.get(str(page)), output

    return result


@pytest.mark.learning
@pytest.mark.parametrize("page", RUNNABLE, ids=_name)
def test_examples_run(page, results):
    result, output = results(page)
    if result is None:  # a process died before it finished this page
        pytest.fail(f"no process ran {_name(page)}'s examples to the end:\n{output[-4000:]}")
    assert result["ok"], "\n".join(result["log"])


def test_the_readmes_examples_are_on_the_site():
    """The README's examples are not run twice: each is a block of a site page, where it runs."""
    on_site = {f.code for page in RUNNABLE for f in fences(page) if f.runs}
    missing = [f.where for f in fences(README) if f.runs and f.code not in on_site]
    assert not missing, missing


def test_every_code_block_says_what_it_is():
    """A fence names its language, and only the markers the examples' runner knows, where they mean something."""
    bad = []
    for page in pages():
        for f in fences(page):
            if f.lang not in KNOWN_LANGS or not f.flags <= FLAGS:
                bad.append(f"{f.where}: ```{f.lang} {' '.join(sorted(f.flags))}")
            elif "quote" in f.flags and f.lang != "python":
                bad.append(f"{f.where}: only python blocks quote the source")
    assert not bad, bad


def test_shell_examples_are_actorcritic_commands():
    """What the runner can run; anything else (pip, python bench/..., tensorboard) is marked notest."""
    bad = [
        f"{f.where}: {' '.join(words)}"
        for page in pages()
        for f in fences(page)
        if f.runs and f.lang in SHELL_LANGS
        for words in shell_commands(f.code)
        if words[0] != "actorcritic"
    ]
    assert not bad, bad


@pytest.mark.parametrize(
    ("written", "run"),
    [
        ("train", "train --total-steps 100 --no-progress"),
        ("train td3 --total-steps 20000 --checkpoint-interval 5000", "train td3 --total-steps 200 --checkpoint-interval 50 --no-progress"),
        ("train --resume runs/a", "train --resume runs/a --no-progress"),
        ("train --resume runs/a --total-steps=40000", "train --resume runs/a --total-steps 400 --no-progress"),
        ("train ddpg --env Swarm-v0 --env-kwargs preset=small", "train ddpg --env Swarm-v0 --env-kwargs preset=small,episode_steps=20 --total-steps 100 --no-progress"),
        ("eval runs/a", "eval runs/a --episodes 2"),
        ("eval runs/a --episodes 20 --render gif --render-episodes 3", "eval runs/a --episodes 2 --render gif --render-episodes 1"),
        ("swarm simulate --steps 300", "swarm simulate --steps 30"),
        ("swarm phase-diagram --noise 0:5:1", "swarm phase-diagram --noise 0:5:1 --steps 50 --repeats 1"),
        ("swarm evaluate --policy vicsek --json", "swarm evaluate --policy vicsek --json --episodes 2"),
        ("sweep --preset tau-study", "sweep --preset tau-study --seeds 1 --total-steps 100 --no-progress"),
        ("sweep ddpg --seeds 5 --total-steps 10000 --workers 8", "sweep ddpg --seeds 1 --total-steps 100 --workers 2 --no-progress"),
        ("tune ppo --trials 30 --total-steps 50000", "tune ppo --trials 2 --total-steps 500"),
        ("train a3c --num-workers 8", "train a3c --num-workers 2 --total-steps 100 --no-progress"),
        ("export runs/a --format torchscript", "export runs/a --format torchscript"),
    ],
)  # fmt: skip
def test_shorten(written, run):
    assert shorten(written.split()) == run.split()
