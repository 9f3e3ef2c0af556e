"""Running sums of the learner's metrics between two log points, kept as tensors (no host sync per update).

An update reports the metrics it computed: TD3's critic loss every update, its actor loss only when the
actor moved. Each metric's mean in a log row is over the updates that reported it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class MetricSums:
    def __init__(self, names: Sequence[str], members: int, device: torch.device):
        self.names, self.members = tuple(names), members
        self.sums = torch.zeros(len(self.names), members, device=device)
        self.counts = [0] * len(self.names)
        self._index: dict[tuple[str, ...], tuple[torch.Tensor, list[int]]] = {}  # key set -> rows

    def add(self, metrics: dict[str, torch.Tensor]) -> None:
        """One update's per-member metrics ([members] or scalars), by name."""
        keys = tuple(metrics)
        if not keys:
            return
        if keys not in self._index:
            rows = [self.names.index(k) for k in keys]
            self._index[keys] = (torch.tensor(rows, device=self.sums.device), rows)
        index, rows = self._index[keys]
        values = torch.stack([v.reshape(-1).expand(self.members) for v in metrics.values()])
        self.sums.index_add_(0, index, values.to(self.sums.dtype))
        for r in rows:
            self.counts[r] += 1

    def add_sums(self, sums: Sequence[float], count: int) -> None:
        """Sums of ``count`` updates of every metric, made elsewhere (a worker process)."""
        self.sums += torch.tensor(list(sums), dtype=self.sums.dtype, device=self.sums.device).reshape(-1, 1)
        self.counts = [c + count for c in self.counts]

    def take(self) -> dict[str, list[float | None]]:
        """Each metric's mean per member since the last call (None where no update reported it); resets."""
        means = (
            self.sums / torch.tensor([max(c, 1) for c in self.counts], device=self.sums.device).unsqueeze(1)
        ).tolist()
        out = {name: (row if count else [None] * self.members) for name, row, count in zip(self.names, means, self.counts, strict=True)}  # fmt: skip
        self.sums.zero_()
        self.counts = [0] * len(self.names)
        return out
