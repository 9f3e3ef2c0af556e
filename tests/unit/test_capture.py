"""``Captured``: a compiled function whose graph, from its third call with a key on, runs without dynamo on
static copies of the call's tensors; it must give what the function gives, and leave to dynamo what it
cannot replay."""

from typing import NamedTuple

import pytest
import torch

from actorcritic.core.capture import Captured

GPU = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


class Pair(NamedTuple):
    x: torch.Tensor
    y: torch.Tensor


class Regression:
    """A linear model and one gradient step of it, a function of tensors on the object's own weights."""

    def __init__(self, device: str = "cpu"):
        self.w = torch.linspace(-1, 1, 12, device=device).reshape(4, 3)

    def step(self, batch: Pair, scale: torch.Tensor, big_step: bool) -> dict[str, torch.Tensor]:
        error = batch.x @ self.w - batch.y
        self.w.sub_((0.1 if big_step else 0.01) * scale * batch.x.T @ error / len(error))
        return {"loss": error.square().mean(), "w_norm": self.w.norm()}


def batches(n: int, device: str = "cpu") -> list[tuple[Pair, torch.Tensor, bool]]:
    g = torch.Generator().manual_seed(0)
    return [(Pair(torch.randn(8, 4, generator=g).to(device), torch.randn(8, 3, generator=g).to(device)),
             torch.rand((), generator=g).to(device), i % 2 == 0) for i in range(n)]  # fmt: skip


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=GPU)])
def test_a_captured_graph_gives_what_the_function_gives(device):
    eager, compiled = Regression(device), Regression(device)
    step = Captured(compiled.step, device)
    results = []
    for batch, scale, big in batches(18, device):  # each branch (key) 6 times: captured at its second call
        want, got = eager.step(batch, scale, big), step(batch, scale, big)
        assert want.keys() == got.keys()
        results.append((want, got))  # each call's own result, never overwritten by a later one
        torch.testing.assert_close(compiled.w, eager.w, rtol=1e-5, atol=1e-6)
    for want, got in results:
        for k in want:
            torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=1e-6)
    assert len(step.graphs) == 2 and all(step.graphs.values())  # both branches run without dynamo now
    # on a GPU, as CUDA graphs: recorded at a branch's fourth call, replayed from then on
    assert [g.cuda_graph is not None for g in step.graphs.values()] == [device == "cuda"] * 2


def test_a_captured_graph_reads_the_weights_loaded_into_its_tensors():
    model = Regression()
    step = Captured(model.step, "cpu")
    data = batches(9)
    for batch, scale, _ in data[:4]:
        step(batch, scale, True)
    saved = model.w.clone()
    first = [step(batch, scale, True)["loss"] for batch, scale, _ in data[4:]]
    model.w.copy_(saved)  # as loading a checkpoint does: into the same tensor
    again = [step(batch, scale, True)["loss"] for batch, scale, _ in data[4:]]
    assert all(step.graphs.values())
    assert torch.equal(torch.stack(first), torch.stack(again))


def test_a_function_that_reads_new_tensors_on_each_call_stays_with_dynamo():
    """Its graph's inputs differ from call to call: replaying the first call's would read stale weights."""
    eager, compiled = Regression(), Regression()
    step = Captured(compiled.step, "cpu")
    for batch, scale, _ in batches(6):
        compiled.w = compiled.w.clone()  # a new tensor object with the same values
        want, got = eager.step(batch, scale, False), step(batch, scale, False)
        torch.testing.assert_close(got["loss"], want["loss"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(compiled.w, eager.w, rtol=1e-5, atol=1e-6)
    assert list(step.graphs.values()) == [None]


def test_a_result_that_is_not_the_graphs_own_output_stays_with_dynamo():
    """A returned argument is no output of the graph: dynamo hands it back itself."""

    def scaled(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x * 2, y

    f = Captured(scaled, "cpu")
    ys = [torch.arange(3.0) + i for i in range(4)]
    got = [f(torch.full((3,), float(i)), y) for i, y in enumerate(ys)]
    assert all(torch.equal(x, torch.full((3,), 2.0 * i)) and y is ys[i] for i, (x, y) in enumerate(got))
    assert list(f.graphs.values()) == [None]


def test_each_thread_count_captures_a_graph_of_its_own():
    """Inductor builds a CPU graph's kernels for the thread count they run at (``AutoThreads`` changes it
    during a run): each count is captured with its own graph, not replayed with another count's kernels,
    nor left with dynamo because its two calls ran different graphs."""
    eager, compiled = Regression(), Regression()
    step = Captured(compiled.step, "cpu")
    before = torch.get_num_threads()
    try:
        for i, (batch, scale, _) in enumerate(batches(12)):
            torch.set_num_threads(1 if i % 4 < 2 else 2)  # two calls at each count, then the other's two
            want, got = eager.step(batch, scale, True), step(batch, scale, True)
            torch.testing.assert_close(got["loss"], want["loss"], rtol=1e-5, atol=1e-6)
    finally:
        torch.set_num_threads(before)
    torch.testing.assert_close(compiled.w, eager.w, rtol=1e-5, atol=1e-6)
    assert [key[2] for key in step.graphs] == [1, 2]
    one, two = step.graphs.values()
    assert one is not None and two is not None and one.graph is not two.graph
