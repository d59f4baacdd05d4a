"""An import's rows read and cleaned in batches (``read_batches``), and the same done a batch
ahead by a second process (``read_ahead``) so that, on two cores, reading and cleaning the next
batch overlaps the writer's work and the database's on this one.

Reading and cleaning are pure Python (``leads.importing``) and were a fifth of an import's
time, spent while PostgreSQL waited; a thread cannot overlap them, because the interpreter lock
passes back and forth at every statement the writer sends. The reader is a forked child: it
shares the uploaded file's handle (the writer does not read it meanwhile) and sends each batch
through a pipe, pickled; it never touches the database, and leaves with ``os._exit`` so the
connection it inherited is not closed under the writer. The pipe holds the reader at most a
batch ahead of the writer, so memory stays flat in the file's size. Where ``os.fork`` does not
exist, the batches are read in the writer's own process.

Either way the writer gets the same batches: a file the reader cannot read fails with the same
``ImportFormatError``, after the batches read before it (as in a single process); a writer
that stops early (an error, a killed batch) closes the pipe, and the reader ends."""

import itertools
import os
import pickle
import traceback
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import BinaryIO

from django.conf import settings
from django.core.files import File

from kit.csvfiles import ImportFormatError

from .. import importing

# Off unless IMPORT_READ_AHEAD is set: measured only on a machine whose two cores were busy,
# where it gave no gain (the reader's CPU came from the writer and PostgreSQL), and a fork from
# a process running threads (the embedded mode's single process) is best avoided.
READ_AHEAD = hasattr(os, "fork") and settings.IMPORT_READ_AHEAD


@dataclass(slots=True)
class ReadRow:
    """One data row of the file: cleaned (``row``), or refused with its ``reason``, the email
    as written and the row's cells (for the refused rows' download)."""

    line: int
    row: importing.CleanRow | None
    reason: str = ""
    email: str = ""
    cells: list[str] | None = None


@dataclass
class Reading:
    """What the writer reads: the file's format (known before the first row) and its rows'
    batches."""

    file_format: str
    batches: Iterator[list[ReadRow]]


def read_batches(
    handle: BinaryIO | File, *, sheet_type: str, mapping: list[str] | None, skip: int, size: int
) -> Generator[str | list[ReadRow], None, None]:
    """The file's format, then its rows after the first ``skip`` in batches of ``size``, each
    row cleaned (``importing.clean_row``) or refused."""
    rows = importing.iter_rows(handle, sheet_type=sheet_type, mapping=mapping)
    try:
        yield rows.file_format
        batch: list[ReadRow] = []
        for line, raw in itertools.islice(rows, skip, None):
            try:
                batch.append(ReadRow(line, importing.clean_row(raw)))
            except importing.RowRefused as exc:
                batch.append(ReadRow(line, None, str(exc), raw.get("email", ""), list(rows.last_cells)))
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch
    finally:
        rows.close()


@contextmanager
def read_ahead(
    handle: BinaryIO | File, *, sheet_type: str, mapping: list[str] | None, skip: int, size: int
) -> Iterator[Reading]:
    """``read_batches`` in a child process when it can be forked (see the module's docstring),
    else in this one."""
    batches = read_batches(handle, sheet_type=sheet_type, mapping=mapping, skip=skip, size=size)
    if not READ_AHEAD:
        try:
            file_format = next(batches)
            assert isinstance(file_format, str)
            yield Reading(file_format, batches)  # type: ignore[arg-type]  # the rest are batches
        finally:
            batches.close()
        return
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the reader
        os.close(read_end)
        _relay(batches, write_end)  # never returns
    os.close(write_end)
    incoming = os.fdopen(read_end, "rb")
    try:
        header = _receive(incoming)
        assert isinstance(header, str)
        yield Reading(header, _received_batches(incoming))
    finally:
        incoming.close()  # a reader still writing gets a broken pipe and ends
        os.waitpid(pid, 0)


def _relay(batches: Generator[str | list[ReadRow], None, None], write_end: int) -> None:
    """The reader's whole life: each item pickled into the pipe, then the end (or the error)."""
    status = 0
    try:
        with os.fdopen(write_end, "wb") as out:
            try:
                for item in batches:
                    sent = item if isinstance(item, str) else [_as_tuple(read) for read in item]
                    pickle.dump(("item", sent), out, protocol=pickle.HIGHEST_PROTOCOL)
                    out.flush()
                message: tuple = ("end", None)
            except ImportFormatError as exc:
                message = ("format_error", str(exc))
            except BrokenPipeError:
                raise  # the writer stopped reading: nobody to tell
            except BaseException:
                message = ("error", traceback.format_exc())
            pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
    except BrokenPipeError:
        pass
    except BaseException:
        status = 1
    finally:
        # No interpreter shutdown: the inherited database connection, the worker's handlers and
        # the writer's open transaction stay the writer's.
        os._exit(status)


# A row crosses the pipe as a tuple of plain values: unpickling a dataclass instance calls its
# ``__setstate__`` in Python, field by field, which cost the writer a third of what cleaning
# the row had.
_CLEAN_ROW_FIELDS = tuple(f.name for f in fields(importing.CleanRow))


def _as_tuple(read: ReadRow) -> tuple:
    row = read.row
    if row is None:
        return (read.line, None, read.reason, read.email, read.cells)
    return (read.line, tuple([getattr(row, name) for name in _CLEAN_ROW_FIELDS]))


def _from_tuple(sent: tuple) -> ReadRow:
    if sent[1] is None:
        return ReadRow(*sent)
    return ReadRow(sent[0], importing.CleanRow(*sent[1]))


def _receive(incoming) -> str | list[ReadRow] | None:
    """The reader's next item; None at the end. Its errors are raised here, in the writer."""
    try:
        kind, value = pickle.load(incoming)
    except EOFError:
        raise RuntimeError("the import's reader process ended without finishing the file") from None
    if kind == "item":
        return value if isinstance(value, str) else [_from_tuple(sent) for sent in value]
    if kind == "format_error":
        raise ImportFormatError(value)
    if kind == "error":
        raise RuntimeError(f"the import's reader process failed:\n{value}")
    return None


def _received_batches(incoming) -> Iterator[list[ReadRow]]:
    while (batch := _receive(incoming)) is not None:
        assert isinstance(batch, list)
        yield batch
