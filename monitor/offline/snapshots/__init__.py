"""Bundled snapshot templates (package data) replayed by monitor.offline.server."""
