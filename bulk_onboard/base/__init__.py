"""The shared vocabulary every stage may use: how a row ends (outcomes), the error-code hints,
change records, atomic private files and text made safe to print.

Nothing here knows of spreadsheets, the API or reports; everything above builds on it.
"""
