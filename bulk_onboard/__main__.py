"""`python -m bulk_onboard` is the same program as the `bulk-onboard` console script."""

from bulk_onboard.cli import main

raise SystemExit(main())
