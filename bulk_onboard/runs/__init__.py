"""Stage 5, run folders: make one (`OUT/<UTC time>-<input>/`, OUT/latest), name its files, read
a finished one back, and find what `--resume` and `--retry-failed` need in an earlier one.

Hands on the folder and its files to the reports and to the next run.
"""
