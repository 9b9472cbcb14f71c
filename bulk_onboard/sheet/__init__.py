"""Stage 1, the sheet: open the user's file (CSV/TSV/TXT, .xlsx/.xlsm or stdin), decode it, find its
delimiter and header (a workbook's size checked first), and map its columns to fields through
the alias table, marking the columns whose header names a secret.

Hands on a `Table` (the header and a stream of `RawRow` chunks) and a `ColumnMap`.
"""
