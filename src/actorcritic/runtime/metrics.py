"""Running sums of the learner's metrics between two log points, kept as tensors (no host sync per update).

An update reports the metrics it computed: TD3's critic loss every update, its actor loss only when the
actor moved. Each metric's mean in a log row is over the updates that reported it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class MetricSums:
    HELD = 256  # updates whose metrics wait to be summed in one go (a few small ops per update otherwise)

    def __init__(self, names: Sequence[str], members: int, device: torch.device):
        self.names, self.members = tuple(names), members
        self.sums = torch.zeros(len(self.names), members, device=device)
        self.counts = [0] * len(self.names)
        self._index: dict[tuple[str, ...], tuple[torch.Tensor, list[int]]] = {}  # key set -> rows
        self._held: dict[tuple[str, ...], list[tuple[torch.Tensor, ...]]] = {}  # key set -> updates' values
        self._n_held = 0

    def add(self, metrics: dict[str, torch.Tensor]) -> None:
        """One update's per-member metrics ([members] or scalars), by name. The tensors are kept until
        they are summed (an update returns new ones each time, so keeping them costs no copy)."""
        keys = tuple(metrics)
        if keys:
            self._held.setdefault(keys, []).append(tuple(metrics.values()))
            self._n_held += 1
            if self._n_held >= self.HELD:
                self._sum_held()

    def _sum_held(self) -> None:
        for keys, updates in self._held.items():
            if keys not in self._index:
                rows = [self.names.index(k) for k in keys]
                self._index[keys] = (torch.tensor(rows, device=self.sums.device), rows)
            index, rows = self._index[keys]
            # each metric's values over the held updates, [n, members] (or [n] for scalars), summed over n
            totals = [torch.stack(column).reshape(len(updates), -1).sum(0).expand(self.members) for column in zip(*updates, strict=True)]  # fmt: skip
            self.sums.index_add_(0, index, torch.stack(totals).to(self.sums.dtype))
            for r in rows:
                self.counts[r] += len(updates)
        self._held.clear()
        self._n_held = 0

    def add_sums(self, sums: Sequence[float], count: int) -> None:
        """Sums of ``count`` updates of every metric, made elsewhere (a worker process)."""
        self.sums += torch.tensor(list(sums), dtype=self.sums.dtype, device=self.sums.device).reshape(-1, 1)
        self.counts = [c + count for c in self.counts]

    def take(self) -> dict[str, list[float | None]]:
        """Each metric's mean per member since the last call (None where no update reported it); resets."""
        self._sum_held()
        means = (
            self.sums / torch.tensor([max(c, 1) for c in self.counts], device=self.sums.device).unsqueeze(1)
        ).tolist()
        out = {name: (row if count else [None] * self.members) for name, row, count in zip(self.names, means, self.counts, strict=True)}  # fmt: skip
        self.sums.zero_()
        self.counts = [0] * len(self.names)
        return out
