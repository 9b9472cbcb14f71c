"""The jobs behind the commands and the Python API: `run`, `validate`, `check` and `sync`, each
from an input file to a finished run folder, composed from the stages below.

The command line (`bulk_onboard.commands`) and the package's face (`bulk_onboard`) call these.
"""
