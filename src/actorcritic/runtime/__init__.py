"""The training loops and what surrounds them: evaluation, checkpoints, logging, plots, run dirs."""
