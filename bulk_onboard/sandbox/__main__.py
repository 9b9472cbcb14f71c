"""`python -m bulk_onboard.sandbox [knobs]` is `bulk-onboard sandbox [knobs]`: one parser for both.

Benchmarks and tests run the sandbox this way, as a process of its own.
"""

import sys

from bulk_onboard.cli import main

raise SystemExit(main(["sandbox", *sys.argv[1:]]))
