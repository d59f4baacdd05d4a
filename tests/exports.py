"""Reading an exported CSV file back, as a spreadsheet would, in the export tests."""

import csv
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext


def read_csv(response) -> list[list[str]]:
    """The rows of a streamed CSV answer, header first (the byte-order mark checked and dropped)."""
    assert response.streaming, "an export streams"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def as_dicts(response) -> list[dict[str, str]]:
    header, *rows = read_csv(response)
    return [dict(zip(header, row, strict=True)) for row in rows]


def queries_to_download(client, url: str) -> tuple[int, list[list[str]]]:
    """How many queries a whole download takes (the request and reading every row), and its rows."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200, response.content
        rows = read_csv(response)
    return len(queries), rows
