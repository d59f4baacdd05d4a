"""Reading an uploaded CSV file, as every import reads one (leads, prospects, contracts), and
writing one formula-safe, row by row, as a streamed export does (``csv_lines``, ``acsv_lines``).

Streaming throughout: a file is read record by record through the standard ``csv`` module,
never whole into memory, and handed back to its owner still open. A file is UTF-8 (with or
without the byte-order mark spreadsheet tools write); undecodable bytes fail the whole file
(``ImportFormatError`` naming the line of the first one) rather than refusing rows one by
one: a file that is not UTF-8 is nearly always a file saved in another encoding (Excel's plain
"CSV" is Windows-1252), every accented name in it would be refused or stored garbled, and the
fix is the same for all of them, saving it as "CSV UTF-8".

Lines are the 1-based physical lines on which a record starts, the header being line 1: what
a text editor or ``grep -n`` shows, right even after a quoted cell spanning several lines.
Records with nothing but blank cells are skipped. Headers are matched by ``header_key``; what
a column means is each import's own business.
"""

import codecs
import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Generator, Iterable, Iterator, Mapping, Sequence
from typing import BinaryIO

from django.core.files import File


class ImportFormatError(Exception):
    """The file as a whole cannot be imported (not UTF-8, broken CSV, no header row, a needed
    column missing); the message says why, for the person who uploaded it."""


def header_key(header: str, *, spaces: str = "_") -> str:
    """What tells two headers apart: not case, not surrounding or repeated whitespace, and not
    the characters in ``spaces``, read as spaces ("First_Name" is "first name"). An import
    whose column names never hold a "-" of their own may fold it too (``spaces="_-"``)."""
    for character in spaces:
        header = header.replace(character, " ")
    return " ".join(header.split()).casefold()


def find_columns(
    headers: Sequence[str], tables: Iterable[Mapping[str, str]], *, spaces: str = "_"
) -> dict[str, int]:
    """The column index of each key the headers name. Each table maps ``header_key``s (made
    with the same ``spaces``) to keys; the tables are tried in order, so a first table's names
    win over a later one's. A key takes the first column naming it, and a column gives one key."""
    columns: dict[str, int] = {}
    for table in tables:
        for index, header in enumerate(headers):
            key = table.get(header_key(header, spaces=spaces))
            if key is not None and key not in columns and index not in columns.values():
                columns[key] = index
    return columns


def describe_headers(headers: Sequence[str], *, count_rest: bool = True) -> str:
    """The file's headers as a refusal lists them: the first 20, each cut at 40 characters,
    and how many more (unless ``count_rest`` is off); "none" for a file without any."""
    found = ", ".join(repr(header[:40]) for header in headers[:20]) or "none"
    if count_rest and len(headers) > 20:
        found += f" and {len(headers) - 20} more"
    return found


def records(binary_file: BinaryIO | File) -> Generator[tuple[int, list[str]], None, None]:
    """``(first line, cells)`` of each CSV record that has a non-blank cell, header included,
    from the file's start. Raises ``ImportFormatError`` when the file is not UTF-8 or not CSV;
    ``close()`` it to stop early (the file stays open)."""
    if binary_file.seekable():
        binary_file.seek(0)
    # utf-8-sig drops the byte-order mark spreadsheet tools write; newline="" hands line
    # endings inside quoted cells to csv untouched, as its documentation requires.
    text = io.TextIOWrapper(binary_file, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    line = 1
    undecodable = False
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield line, cells
            # reader.line_num counts the physical lines read so far, multi-line cells included.
            line = reader.line_num + 1
    except UnicodeDecodeError:
        undecodable = True
    except csv.Error as exc:
        raise ImportFormatError(f"Line {line} is not valid CSV ({exc}); is a quote missing?") from None
    finally:
        # A TextIOWrapper closes its buffer when it goes: the file belongs to the caller.
        if not text.closed:
            text.detach()
    if undecodable:
        where = (
            f" (line {_first_undecodable_line(binary_file)} has bytes that are not UTF-8)"
            if binary_file.seekable()
            else ""
        )
        raise ImportFormatError(
            f'The file is not UTF-8 text{where}. Save it as "CSV UTF-8" and upload it again.'
        )


def _first_undecodable_line(binary_file: BinaryIO | File) -> int:
    # The text layer decodes ahead in chunks, so its position does not tell the line: scan
    # the bytes again with an incremental decoder, counting line feeds up to the bad byte.
    binary_file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    while chunk := binary_file.read(64 * 1024):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return line + exc.object[: exc.start].count(b"\n")
        line += chunk.count(b"\n")
    return line


def header_row(rows: Iterator[tuple[int, list[str]]]) -> list[str]:
    """The next record of ``records(...)``, which is the header row; ``ImportFormatError`` for
    a file without one (empty, or nothing but blank lines)."""
    try:
        return next(rows)[1]
    except StopIteration:
        raise ImportFormatError("The file is empty: it has no header row.") from None


def read_headers(binary_file: BinaryIO | File) -> list[str]:
    """Return the header row of a file (for a preview; none for an empty file); the file is
    left open."""
    rows = records(binary_file)
    try:
        return next(rows)[1]
    except StopIteration:
        return []
    finally:
        rows.close()


def count_rows(binary_file: BinaryIO | File) -> int:
    """Count the data records (the header aside) from the file's start, for progress. Streams
    without building rows; also fails early (``ImportFormatError``) on a file that is not UTF-8
    text, so an import can refuse it before writing a single row."""
    return max(sum(1 for _ in records(binary_file)) - 1, 0)


def cells_by_key(cells: Sequence[str], columns: Iterable[tuple[str, int]]) -> dict[str, str]:
    """One record's text under each key of ``columns`` (``(key, index)`` pairs, from
    ``find_columns(...).items()``): a cell missing from a short record reads as ""; cells
    beyond the columns are ignored."""
    width = len(cells)
    return {key: cells[index] if index < width else "" for key, index in columns}


# --- writing ------------------------------------------------------------------------------

# OWASP "CSV injection": a spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell a spreadsheet will not read as a formula: text starting with = + - @ (or a tab or
    a carriage return) gets a single quote before it; ``None`` is empty."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file whose ``write`` hands back what it was given, so ``csv.writer`` makes lines."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence], *, checked: bool = False) -> Iterator[str]:
    """A CSV file as lines, generated one row at a time (for a ``StreamingHttpResponse`` under
    WSGI): the byte-order mark spreadsheet tools need to read UTF-8, the header, then each row
    with every cell made ``safe_cell``; ``checked``: the rows' cells already are (an export that
    knows which of its cells are text, ``kit.exporting``)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([safe_cell(cell) for cell in header])
    if checked:
        yield from map(writer.writerow, rows)
        return
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


async def acsv_lines(
    header: Sequence[str], rows: AsyncIterable[Sequence], *, checked: bool = False
) -> AsyncIterator[str]:
    """``csv_lines`` from rows that arrive asynchronously (``QuerySet.aiterator``): under ASGI a
    streamed response must be given an asynchronous iterator, or Django reads a synchronous one
    whole into memory before sending the first byte."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([safe_cell(cell) for cell in header])
    async for row in rows:
        yield writer.writerow(row if checked else [safe_cell(cell) for cell in row])
