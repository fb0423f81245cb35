"""line_batches: lines in batches as they arrive (what `onda score` reads with)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import pytest

from monitor.linebatch import line_batches


def test_a_file_comes_in_full_batches_in_order() -> None:
    text = "".join(f"{i}\n" for i in range(1, 11))
    batches = list(line_batches(io.StringIO(text), max_lines=4, wait_s=5.0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert [n for b in batches for n, _ in b] == list(range(1, 11))
    assert batches[0][0] == (1, "1\n")


def test_a_line_is_handed_over_while_the_writer_still_holds_the_pipe() -> None:
    """No EOF, nothing more coming: the first line's batch still arrives (after at most wait_s)."""
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "r", encoding="utf-8")
    try:
        os.write(write_fd, b"first\n")
        batches = line_batches(reader, max_lines=100, wait_s=0.05)
        assert next(batches) == [(1, "first\n")]  # would block forever if the input were read to its end
        os.write(write_fd, b"second\nthird\n")
        later: list[str] = []
        while len(later) < 2:  # one batch, or two if the machine is slow: the order is what counts
            later += [line for _, line in next(batches)]
        assert later == ["second\n", "third\n"]
        os.close(write_fd)
        write_fd = -1
        assert list(batches) == []
    finally:
        if write_fd >= 0:
            os.close(write_fd)
        reader.close()


class Failing(io.StringIO):
    def __iter__(self) -> Iterator[str]:
        yield "ok\n"
        raise OSError("disk gone")


def test_a_read_error_comes_after_the_lines_before_it() -> None:
    batches = line_batches(Failing(), max_lines=10, wait_s=0.05)
    assert next(batches) == [(1, "ok\n")]
    with pytest.raises(OSError, match="disk gone"):
        next(batches)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="max_lines"):
        list(line_batches(io.StringIO(""), max_lines=0))
