"""The shared vocabulary every stage may use: how a row ends (outcomes), the error-code hints,
change records, atomic private files, text made safe to print, text that came from a server
redacted of the secrets it may repeat, and the garbage collector run between chunks of rows.

Nothing here knows of spreadsheets, the API or reports; everything above builds on it.
"""
