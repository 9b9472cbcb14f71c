"""Stage 6, reports: the CSV reports and JSON files of a run folder, sync's changes.csv, and the
reports people open (results.xlsx and report.html), rendered from the folder alone.

The last stage: what it writes is what the user reads.
"""
