"""Reusable parts: buffers, noise, networks, target networks, action rescaling, returns."""
