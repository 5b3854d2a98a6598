"""Tables (`domain.tables`) as files: CSV (RFC 4180: CRLF line ends, quotes where needed, UTF-8, a header row of
the wire's field names) and Parquet (one row group per batch of rows; pyarrow, imported only when asked for)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any

from ccdata.domain.tables import Table

CSV_TYPE = "text/csv; charset=utf-8; header=present"  # RFC 4180's media type with its `header` parameter


def csv_text(rows: Iterable[Iterable[Any]]) -> bytes:
    """Rows as CSV lines (None and "" are both an empty cell)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def csv_chunks(names: list[str], batches: Iterable[list[tuple]]) -> Iterator[bytes]:
    """The header row, then one chunk of CSV per batch of rows: memory holds one batch, whatever the total."""
    yield csv_text([names])
    for rows in batches:
        if rows:
            yield csv_text(rows)


ROW_GROUP_ROWS = 65_536  # rows per Parquet row group: large enough for readers, small enough to stay in memory


class ParquetWriter:
    """A Parquet file of `table`'s columns, typed as the records are (int64, string; empty values null). Rows
    (cells in column order, as a store's tuples of `table.fields`) are converted to Arrow as they come and
    written one row group of `row_group_rows` at a time: memory holds at most one row group whatever the size."""

    def __init__(self, table: Table, sink: str | IO[bytes], row_group_rows: int = ROW_GROUP_ROWS) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self.table = table
        self.row_group_rows = row_group_rows
        self.schema = pa.schema([(c.name, pa.int64() if c.kind is int else pa.string()) for c in table.columns])
        self._writer = pq.ParquetWriter(sink, self.schema, compression="zstd")
        self._batches: list[Any] = []
        self._buffered = 0

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        columns = zip(*rows, strict=True)  # row-major to column-major
        arrays = [self._pa.array(cells, type=f.type) for cells, f in zip(columns, self.schema, strict=True)]
        self._batches.append(self._pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self._buffered += len(rows)
        if self._buffered >= self.row_group_rows:
            self._flush()

    def _flush(self) -> None:
        if self._batches:
            whole = self._pa.Table.from_batches(self._batches, schema=self.schema)
            self._writer.write_table(whole, row_group_size=self.row_group_rows)
            self._batches, self._buffered = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()
