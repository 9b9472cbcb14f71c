"""Explain a delimited file pandas could not parse: which physical line is at fault, and why."""

from __future__ import annotations

import io
import re
from typing import BinaryIO, TextIO

from bulk_onboard.errors import InputError

_SCAN_CHARS = 1 << 20
_START, _UNQUOTED, _QUOTED, _AFTER_QUOTE = range(4)


def describe_parse_error(
    handle: BinaryIO,
    encoding: str,
    delimiter: str,
    header_line: int,
    name: str,
    *,
    extra_cells: int = 0,
) -> InputError:
    """Turn a pandas ParserError into a sentence naming the physical line at fault.

    pandas counts records, not lines, and counts them differently per error, so the file is
    walked again from the top; this happens once, on the way to stopping. A record counts as
    too wide past `extra_cells` cells beyond the header's.
    """
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding)  # universal newlines: every line break is "\n"
    try:
        for _ in range(header_line - 1):
            text.readline()
        problem = _find_problem(text, delimiter, header_line, extra_cells)
    finally:
        text.detach()
    return problem or InputError(
        f"{name} could not be read as a table: check that every quoted cell is closed and that"
        " the delimiter is right (--delimiter)."
    )


def _find_problem(text: TextIO, delimiter: str, line: int, extra: int) -> InputError | None:
    """Walk records as pandas' C tokenizer does; describe the first one it rejects, if any."""
    stops = {_UNQUOTED: re.compile(f"[{re.escape(delimiter)}\n]"), _QUOTED: re.compile('["\n]')}
    state, width, cells, record_line, quote_line = _START, 0, 1, line, line
    while block := text.read(_SCAN_CHARS):
        at = 0
        while at < len(block):
            if state in stops:
                stop = stops[state].search(block, at)
                if stop is None:
                    break
                char, at = stop.group(), stop.end()
            else:
                char, at = block[at], at + 1
            if state == _QUOTED:
                if char == "\n":
                    line += 1
                else:
                    state = _AFTER_QUOTE
            elif char == '"':  # only reached at a cell's start or right after a closing quote
                if state == _START:
                    quote_line = line
                state = _QUOTED
            elif char == delimiter:
                cells, state = cells + 1, _START
            elif char == "\n":
                if width and cells > width + extra:
                    return _too_many_cells(record_line, cells, width)
                width = width or cells  # the first record is the header
                line, record_line, cells, state = line + 1, line + 1, 1, _START
            else:
                state = _UNQUOTED  # a quote after this is a literal character, as in pandas
    if state == _QUOTED:
        return InputError(
            f'Line {quote_line} opens a quoted cell that never closes: add the missing " or'
            " remove the stray one."
        )
    too_wide = width and cells > width + extra
    return _too_many_cells(record_line, cells, width) if too_wide else None


def _too_many_cells(line: int, cells: int, width: int) -> InputError:
    return InputError(
        f"Line {line} has {cells} cells but the header has {width}: quote the cell that contains"
        " the delimiter, or remove the extra cell."
    )
