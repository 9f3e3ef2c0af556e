"""Experiments over many runs: sweeps and seed studies (sweep.py), with the statistics of core/stats.py;
Optuna tuning (tune.py)."""
