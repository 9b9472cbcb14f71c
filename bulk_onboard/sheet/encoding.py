"""Bytes to text for delimited input: one streaming pass hashes the file and proves it decodes.

Deciding the encoding before pandas parses means a bad byte is reported with its line at open time,
never as a UnicodeDecodeError halfway through a run, and the pass keeps memory flat: one block at a
time, only the first SAMPLE_CHARS characters are kept for the delimiter sniffer.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from typing import BinaryIO

from bulk_onboard.errors import InputError, UsageError

BLOCK_BYTES = 1 << 20
SAMPLE_CHARS = 64 * 1024
_BINARY_CONTROL_SHARE = 0.05  # text exports hold almost no C0 controls; binary formats hold plenty
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")
_FALLBACK_ENCODING = "cp1252"  # what Excel on Windows writes when "CSV UTF-8" isn't chosen
# A NUL byte in a cell fails that row (rows/values.py); a file where they are common (zero-filled
# blocks of a damaged file, binary data past the sniffed start) is no text: more than this many,
# and more than that share of its characters.
_MAX_NULS = 64
_MAX_NUL_SHARE = 0.01
_UTF16_PROBE_BYTES = 512

# Files people save as .csv by mistake, recognised by their first bytes so the fix can be named.
_MAGIC = (
    (
        b"PK\x03\x04",
        "a ZIP archive, probably an Excel workbook: name it .xlsx, or export it as CSV",
    ),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old Excel .xls or an encrypted workbook: save it as .xlsx or as CSV (UTF-8)",
    ),
)


@dataclass(frozen=True, slots=True)
class DecodedSource:
    """What the pre-pass learnt: how to decode the file and its first characters."""

    sha256: str
    encoding: str  # a Python codec name; "utf-8-sig" when a UTF-8 BOM is present
    sample: str  # the first SAMPLE_CHARS characters of the decoded text
    complete: bool  # the sample is the whole text
    warnings: tuple[str, ...]


class _Undecodable(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def sha256_of(handle: BinaryIO) -> str:
    """Hash a binary stream in blocks and rewind it."""
    digest = hashlib.sha256()
    while block := handle.read(BLOCK_BYTES):
        digest.update(block)
    handle.seek(0)
    return digest.hexdigest()


def decode_source(handle: BinaryIO, name: str, encoding: str | None) -> DecodedSource:
    """Hash `handle`, choose its encoding and check it decodes; rewinds `handle` when done.

    `name` starts the sentences of errors ("Input file 'x.csv'"). An explicit `encoding` wins;
    otherwise a BOM decides (UTF-8 or UTF-16), else UTF-8, else Windows-1252 with a warning.
    Raises UsageError for an unknown codec and InputError for binary data (control characters
    in its start, NUL bytes in over 1 % of the text, UTF-16 without a BOM) or bytes the chosen
    encoding cannot decode.
    """
    start = handle.read(_UTF16_PROBE_BYTES)
    handle.seek(0)
    for magic, what in _MAGIC:
        if start.startswith(magic):
            raise InputError(f"{name} is not a text spreadsheet but {what}.")
    if encoding is not None:
        return _decode_as(handle, name, _codec_name(encoding))
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_as(handle, name, "utf-16")
    if (order := _utf16_without_bom(start)) is not None:
        raise InputError(
            f"{name} looks like UTF-16 text saved without a byte order mark: pass "
            f"--encoding utf-16-{order}, or export it as CSV (UTF-8)."
        )
    guess = "utf-8-sig" if start.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return _scan(handle, name, guess, ())
    except _Undecodable as err:
        warning = (
            f"{name} is not valid UTF-8 (first at line {err.line}); read as Windows-1252 (cp1252):"
            " if letters look wrong, save it as CSV UTF-8 or pass --encoding."
        )
    handle.seek(0)
    try:
        return _scan(handle, name, _FALLBACK_ENCODING, (warning,))
    except _Undecodable as err:
        raise InputError(
            f"{name} is not a text spreadsheet: line {err.line} holds bytes that are neither UTF-8"
            " nor Windows-1252, so export it as CSV (UTF-8) or pass its encoding with --encoding."
        ) from None


def _utf16_without_bom(start: bytes) -> str | None:
    """ "le" or "be" when every other byte is NUL, as in ASCII text written as UTF-16; else None."""
    even, odd = start[0::2], start[1::2]
    if len(odd) < 8:
        return None
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "be"
    return None


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise UsageError(
            f"Unknown encoding '{encoding}': pass a codec name such as utf-8, cp1252 or utf-16."
        ) from None


def _decode_as(handle: BinaryIO, name: str, encoding: str) -> DecodedSource:
    try:
        return _scan(handle, name, encoding, ())
    except _Undecodable as err:
        raise InputError(
            f"Line {err.line} cannot be decoded as {encoding}: pass the file's real encoding with"
            " --encoding, or leave it out to detect UTF-8 or Windows-1252."
        ) from None


def _scan(handle: BinaryIO, name: str, encoding: str, warnings: tuple[str, ...]) -> DecodedSource:
    decoder = codecs.getincrementaldecoder(encoding)()
    digest = hashlib.sha256()
    lines = _LineCounter()
    head = ""
    chars = nuls = 0
    first_nul_line = 0
    while True:
        block = handle.read(BLOCK_BYTES)
        digest.update(block)
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError as err:
            valid = err.object[: err.start].decode(encoding, errors="replace")
            raise _Undecodable(lines.line_after(valid)) from None
        except UnicodeError:  # the codec refuses the stream itself: `utf-16` with no BOM
            raise _Undecodable(lines.line_after("")) from None
        if len(head) <= SAMPLE_CHARS and text:
            if not head and _looks_binary(text[:SAMPLE_CHARS]):
                raise InputError(
                    f"{name} is not a text spreadsheet (it looks like binary data):"
                    " export it as CSV (UTF-8) or as .xlsx."
                )
            head += text[: SAMPLE_CHARS + 1 - len(head)]
        if (count := text.count("\0")) and not nuls:
            first_nul_line = lines.line_after(text[: text.find("\0")])
        chars, nuls = chars + len(text), nuls + count
        lines.advance(text)
        if not block:
            break
    if nuls > max(_MAX_NULS, chars * _MAX_NUL_SHARE):
        raise InputError(
            f"{name} is not a text spreadsheet: {nuls} of its characters are NUL bytes, the "
            f"first on line {first_nul_line}; export it again as CSV (UTF-8) or .xlsx."
        )
    handle.seek(0)
    return DecodedSource(
        digest.hexdigest(), encoding, head[:SAMPLE_CHARS], len(head) <= SAMPLE_CHARS, warnings
    )


def _looks_binary(text: str) -> bool:
    controls = _CONTROL_CHARS.subn("", text)[1]
    return controls > len(text) * _BINARY_CONTROL_SHARE


class _LineCounter:
    """Physical lines as an editor counts them: \\r\\n, \\r and \\n each end one."""

    __slots__ = ("_after_cr", "_ended")

    def __init__(self) -> None:
        self._ended = 0
        self._after_cr = False  # a block ended on \r: a \n opening the next one ends no new line

    def line_after(self, text: str) -> int:
        """The 1-based line of the character that follows `text`, read after the lines so far."""
        breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
        if self._after_cr and text.startswith("\n"):
            breaks -= 1
        return self._ended + breaks + 1

    def advance(self, text: str) -> None:
        if text:
            self._ended = self.line_after(text) - 1
            self._after_cr = text.endswith("\r")
