"""The XLSX format, as much of it as results.xlsx uses, streamed straight into the zip.

Why by hand: results.xlsx is text and numbers with a bold header, frozen panes, filters, column
widths and conditional fills, and a run folder can hold a million rows. Measured on 100,000
rows of succeeded.csv (20 columns): openpyxl's write-only mode takes 13 s and xlsxwriter's
constant-memory mode 11 s, both about 10 µs per cell spent in generic cell handling, while
writing each row's XML with one f-string per cell takes 1.6 s. The parts written here are the
minimal SpreadsheetML package (ECMA-376 part 1): content types, relationships, the workbook, a
style sheet and one part per sheet; strings are inline (`t="inlineStr"`), so there is no shared
string table to hold in memory.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Final

_MAIN_NS: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_TYPE: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD: Final = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Text that XML 1.0 can't hold at all, even escaped.
ILLEGAL_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_BOLD_STYLE: Final = 1  # index of the bold cellXfs entry in the style sheet below
_FLUSH_ROWS: Final = 512  # rows gathered before one write into the zip stream
# Deflate level 1: measured on 100,000 rows, 2.1 s and 12.8 MB against 3.6 s and 9.2 MB at the
# default level 6; the time matters more than the size of a file that is rebuilt on demand.
_COMPRESS_LEVEL: Final = 1


def column_letter(index: int) -> str:
    """Excel's name of the 1-based column `index`: 1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def escape(text: str) -> str:
    """`text` as XML character data (the caller has removed what XML can't hold)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


class Sheet:
    """One worksheet being streamed: rows in order, then its filter and fill rules."""

    def __init__(self, stream: IO[bytes], title: str, widths: Sequence[float]) -> None:
        self.title = title
        self._stream = stream
        self._rows = 0
        self._pending: list[str] = []
        self._letters: list[str] = []
        self.auto_filter: str | None = None
        self._fills: list[tuple[str, str, str]] = []  # (cell range, formula, RRGGBB)
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>'
            for i, w in enumerate(widths, start=1)
        )
        self._write(
            f'{_HEAD}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheetViews>'
            '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
            f"</sheetView></sheetViews>{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
        )

    @property
    def rows(self) -> int:
        """Rows written so far, the header included."""
        return self._rows

    def header(self, names: Sequence[str]) -> None:
        """The bold first row."""
        self._row(names, _BOLD_STYLE)

    def append(self, cells: Sequence[str | int | float | None]) -> None:
        """A row: None or "" is no cell, an int or a finite float a number, a str text (never a
        formula, whatever it starts with)."""
        self._row(cells, 0)

    def _row(self, cells: Sequence[str | int | float | None], style: int) -> None:
        self._rows += 1
        r = self._rows
        while len(self._letters) < len(cells):
            self._letters.append(column_letter(len(self._letters) + 1))
        letters = self._letters
        s = f' s="{style}"' if style else ""
        parts = [f'<row r="{r}">']
        for i, value in enumerate(cells):
            if value is None or value == "":
                continue
            if not isinstance(value, str):
                parts.append(f'<c r="{letters[i]}{r}"{s}><v>{value}</v></c>')
            else:
                parts.append(
                    f'<c r="{letters[i]}{r}"{s} t="inlineStr"><is>'
                    f'<t xml:space="preserve">{escape(value)}</t></is></c>'
                )
        parts.append("</row>")
        self._pending.append("".join(parts))
        if len(self._pending) >= _FLUSH_ROWS:
            self._flush()

    def fill(self, cell_range: str, formula: str, colour: str) -> None:
        """Fill the cells of `cell_range` with `colour` (RRGGBB) where `formula`, written for
        the range's first cell, holds. Rules apply in the order they are added; the first that
        holds stops the others."""
        self._fills.append((cell_range, formula, colour))

    def close(self, dxf_of: dict[str, int]) -> None:
        self._flush()
        tail = ["</sheetData>"]
        if self.auto_filter:
            tail.append(f'<autoFilter ref="{self.auto_filter}"/>')
        for priority, (cell_range, formula, colour) in enumerate(self._fills, start=1):
            dxf = dxf_of.setdefault(colour, len(dxf_of))
            tail.append(
                f'<conditionalFormatting sqref="{cell_range}"><cfRule type="expression" '
                f'dxfId="{dxf}" priority="{priority}" stopIfTrue="1">'
                f"<formula>{escape(formula)}</formula></cfRule></conditionalFormatting>"
            )
        tail.append("</worksheet>")
        self._write("".join(tail))

    def _flush(self) -> None:
        if self._pending:
            self._write("".join(self._pending))
            self._pending.clear()

    def _write(self, text: str) -> None:
        self._stream.write(text.encode("utf-8"))


class Workbook:
    """`with Workbook(handle) as book:` then `with book.sheet(title, position, widths) as s:`.

    Sheets may be written in any order; `position` is their place in the workbook (0 first).
    """

    def __init__(self, handle: IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(
            handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL
        )
        self._sheets: dict[int, Sheet] = {}
        self._dxf_of: dict[str, int] = {}

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._finish()
        self._zip.close()

    @contextmanager
    def sheet(self, title: str, position: int, widths: Sequence[float]) -> Iterator[Sheet]:
        with self._zip.open(f"xl/worksheets/sheet{position + 1}.xml", "w", force_zip64=True) as s:
            sheet = Sheet(s, title, widths)
            yield sheet
            sheet.close(self._dxf_of)
        self._sheets[position] = sheet

    def _finish(self) -> None:
        sheets = [self._sheets[p] for p in sorted(self._sheets)]
        n = len(sheets)
        self._part(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                f'ContentType="{_CT}.worksheet+xml"/>'
                for i in range(1, n + 1)
            )
            + "</Types>",
        )
        self._part(
            "_rels/.rels",
            f'<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{_DOC_TYPE}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        self._part(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_PKG_REL_NS}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_DOC_TYPE}/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, n + 1)
            )
            + f'<Relationship Id="rId{n + 1}" Type="{_DOC_TYPE}/styles" Target="styles.xml"/>'
            "</Relationships>",
        )
        # A filter's range is also a hidden defined name: Excel keeps the two in step.
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{_absolute(sheet.title, sheet.auto_filter)}</definedName>"
            for i, sheet in enumerate(sheets)
            if sheet.auto_filter
        )
        self._part(
            "xl/workbook.xml",
            f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><bookViews><workbookView/>'
            "</bookViews><sheets>"
            + "".join(
                f'<sheet name="{escape(s.title)}" sheetId="{i}" r:id="rId{i}"/>'
                for i, s in enumerate(sheets, start=1)
            )
            + f"</sheets>{f'<definedNames>{names}</definedNames>' if names else ''}</workbook>",
        )
        self._part("xl/styles.xml", _styles(self._dxf_of))

    def _part(self, name: str, xml: str) -> None:
        self._zip.writestr(name, _HEAD + xml)


def _absolute(title: str, cell_range: str) -> str:
    """`'Title'!$A$1:$C$9` from `A1:C9`."""
    ends = [re.sub(r"([A-Z]+)([0-9]+)", r"$\1$\2", end) for end in cell_range.split(":")]
    quoted = title.replace("'", "''")
    return escape(f"'{quoted}'!{':'.join(ends)}")


def _styles(dxf_of: dict[str, int]) -> str:
    """The style sheet: the default font, a bold one, and one fill per conditional colour."""
    dxfs = "".join(
        f'<dxf><fill><patternFill patternType="solid"><fgColor rgb="FF{colour}"/>'
        f'<bgColor rgb="FF{colour}"/></patternFill></fill></dxf>'
        for colour, _ in sorted(dxf_of.items(), key=lambda item: item[1])
    )
    font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
    return (
        f'<styleSheet xmlns="{_MAIN_NS}">'
        f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="2">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        f'</cellStyles><dxfs count="{len(dxf_of)}">{dxfs}</dxfs></styleSheet>'
    )
