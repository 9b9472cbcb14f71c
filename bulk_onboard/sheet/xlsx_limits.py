"""A workbook's size checked before openpyxl reads it: a 1 MB .xlsx can hold a 1 GiB string.

An .xlsx is a zip of XML files. openpyxl reads the shared strings (and the small parts: styles,
the workbook) whole into memory and the sheets as a stream, whatever their size, so a zip bomb
takes gigabytes. Before it opens the file:

- the sizes the zip declares are capped (Python's zipfile never inflates a member past its
  declared size, and fails its CRC check if the data goes on): all members together, the shared
  strings, and each other part read whole;
- the shared strings and the sheets are inflated once as a stream (the cost of reading a file
  twice, tens of MB/s; memory stays flat) and no text in them may run longer than a cell can
  hold, nor one string or cell be spread over more than MAX_ELEMENT_BYTES.

A workbook over a cap is refused with InputError (exit 65) naming the cap. The reader refuses a
cell over EXCEL_MAX_CELL_CHARS characters too (sheet.xlsx), which no spreadsheet app writes.
"""

from __future__ import annotations

import functools
import zipfile
from typing import BinaryIO

from bulk_onboard.errors import InputError

EXCEL_MAX_CELL_CHARS = 32_767  # what Excel holds in a cell
MAX_WORKBOOK_BYTES = 2 * 1024**3  # all members inflated; a million-row sheet is about 600 MB
MAX_SHARED_STRINGS_BYTES = 256 * 1024**2  # read whole; a million rows of mailboxes are ~100 MB
MAX_PART_BYTES = 64 * 1024**2  # each other part read whole: styles, workbook, relationships
# A text node's bytes: a character escaped as &#1114111; takes 10.
MAX_TEXT_RUN_BYTES = EXCEL_MAX_CELL_CHARS * 10
MAX_ELEMENT_BYTES = 16 * 1024**2  # one shared string or cell, however many formatting runs
_SHARED_STRINGS = "xl/sharedStrings.xml"
_SHEETS = "xl/worksheets/"
_CHUNK_BYTES = 1024**2


def check_workbook(handle: BinaryIO, name: str) -> None:
    """Raise InputError if the workbook in `handle` inflates past a cap; rewinds `handle`.

    A file that is no zip at all is left to openpyxl, which says so in its own words.
    """
    try:
        with zipfile.ZipFile(handle) as archive:
            _check_sizes(archive.infolist(), name)
            for info in archive.infolist():
                if info.filename == _SHARED_STRINGS:
                    _check_text(archive, info, b"<si", name)
                elif info.filename.startswith(_SHEETS) and info.filename.endswith(".xml"):
                    _check_text(archive, info, b"<c", name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        pass  # damaged, encrypted or no zip: openpyxl refuses it next, in its own sentence
    finally:
        handle.seek(0)


def _check_sizes(infos: list[zipfile.ZipInfo], name: str) -> None:
    total = sum(info.file_size for info in infos)
    if total > MAX_WORKBOOK_BYTES:
        raise InputError(_too_big(name, f"unpacks to {_mib(total)}", MAX_WORKBOOK_BYTES))
    for info in infos:
        if info.filename == _SHARED_STRINGS:
            cap = MAX_SHARED_STRINGS_BYTES
        elif info.filename.startswith(_SHEETS):
            continue  # streamed, so only the total bounds it
        else:
            cap = MAX_PART_BYTES
        if info.file_size > cap:
            what = f"has a part ({info.filename}) that unpacks to {_mib(info.file_size)}"
            raise InputError(_too_big(name, what, cap))


def _check_text(archive: zipfile.ZipFile, info: zipfile.ZipInfo, element: bytes, name: str) -> None:
    text, strings = _Gaps(b"<", MAX_TEXT_RUN_BYTES), _Gaps(element, MAX_ELEMENT_BYTES)
    with archive.open(info) as stream:
        for chunk in iter(functools.partial(stream.read, _CHUNK_BYTES), b""):
            if not (text.fits(chunk) and strings.fits(chunk)):
                raise InputError(
                    f"{name} holds a text longer than a spreadsheet cell can ({info.filename}),"
                    " so no spreadsheet app wrote it: open it in Excel and save it again, or"
                    " export the sheet as CSV."
                )


class _Gaps:
    """Checks, chunk by chunk, that `marker` recurs at most about `limit` bytes apart (from the
    start of the stream to its end).

    Each step asks for the last marker in the next `limit` bytes (rfind, in C), so a check
    costs a few steps per MiB of ordinary XML, and stays linear for any input.
    """

    __slots__ = ("_last", "_limit", "_marker", "_tail")

    def __init__(self, marker: bytes, limit: int) -> None:
        self._marker = marker
        self._limit = limit
        self._last = 0  # where the last marker started, relative to the next data (tail + chunk)
        self._tail = b""  # the previous chunk's last bytes, for a marker cut in two

    def fits(self, chunk: bytes) -> bool:
        """Feed the next chunk; False once two markers (or the start and one) are too far apart."""
        data = self._tail + chunk
        last = self._last
        while True:
            stop = last + self._limit + len(self._marker)  # a marker must start before this
            found = data.rfind(self._marker, max(last + 1, 0), min(stop, len(data)))
            if found >= 0:
                last = found
            elif stop <= len(data):
                return False
            else:
                break  # the window runs past this chunk: the next one decides
        self._tail = data[len(data) - len(self._marker) + 1 :] if len(self._marker) > 1 else b""
        self._last = last - len(data) + len(self._tail)
        return True


def _mib(size: int) -> str:
    return f"{size / 1024**2:,.0f} MiB"


def _too_big(name: str, what: str, cap: int) -> str:
    return (
        f"{name} {what}, more than the {_mib(cap)} this tool reads (a file this small that "
        "unpacks this big is a zip bomb, or not a workbook a spreadsheet app wrote): export the "
        "sheet as CSV instead."
    )
