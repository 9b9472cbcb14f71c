"""Stage 1, the sheet: open the user's file (CSV/TSV/TXT, .xlsx/.xlsm or stdin), decode it, find its
delimiter and header, and map its columns to fields through the alias table.

Hands on a `Table` (the header and a stream of `RawRow` chunks) and a `ColumnMap`.
"""
