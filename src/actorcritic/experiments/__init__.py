"""Experiments over many runs: sweeps and seed studies (sweep.py), the statistics they report (stats.py)."""
