"""Lines of a stream in batches as they arrive: what `onda score` reads its input with.

A reader thread does the blocking reads and hands lines over a bounded queue. Each batch is the
first line that arrives plus whatever else is already there or arrives within `wait_s`, at most
`max_lines`: a pipe that trickles gets each line scored soon after it is written, a file still
makes full batches (the model is faster per text in batches), and a slow producer is never
waited for beyond `wait_s`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import IO

Numbered = tuple[int, str]  # (1-based line number, the line as read, newline included)
_END = None


def line_batches(stream: IO[str], *, max_lines: int = 512, wait_s: float = 0.05) -> Iterator[list[Numbered]]:
    """Yield batches of numbered lines until the stream ends; a read error is raised after the lines before it."""
    if max_lines < 1 or wait_s < 0:
        raise ValueError("max_lines must be >= 1 and wait_s >= 0")
    lines: queue.Queue[Numbered | BaseException | None] = queue.Queue(maxsize=4 * max_lines)

    def read() -> None:
        try:
            for item in enumerate(stream, start=1):
                lines.put(item)
        except BaseException as exc:  # handed to the consumer, which raises it in its own thread
            lines.put(exc)
            return
        lines.put(_END)

    threading.Thread(target=read, name="onda-input", daemon=True).start()
    while True:
        item = lines.get()
        batch: list[Numbered] = []
        deadline = time.monotonic() + wait_s
        while isinstance(item, tuple):
            batch.append(item)
            if len(batch) >= max_lines:
                break
            try:
                item = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
        if batch:
            yield batch
        if item is _END:
            return
        if isinstance(item, BaseException):
            raise item
