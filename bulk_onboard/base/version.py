"""The version of bulk-onboard (pyproject.toml's), for manifests, reports and the User-Agent."""

__version__ = "0.1.0"
