"""The example brand files (package data), so an installed Onda can start from one: see monitor.starter.

They are the same files as the checkout's examples/brands/ (the labelled sets in examples/fit were
written against those); tests/core/test_starter.py keeps the two copies identical.
"""
