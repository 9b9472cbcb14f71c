"""The command line's commands, one module each: its options, and a call of the Python API.

`bulk_onboard.cli` builds the parser from these and dispatches to them. A command only turns
parsed options (and the environment: the API key, the API URL) into a call of
`bulk_onboard.library` and prints what the job left; the work is done below.
"""
