"""MailReach's published example of an account object, and a recursive comparison of shapes.

The example is the response of `POST /v1/imap_auth` in MailReach's reference page, vendored at
docs/mailreach/imap_auth.txt (CI clones only the repository; the original sits outside it, in
../shared/seed/imap_auth.txt). A shape is what a client relies on: the key paths, the JSON
types and the nesting. Values are free to differ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VENDORED_SEED = REPO / "docs" / "mailreach" / "imap_auth.txt"
# The seed as the project was given it: beside the repository, not in it.
SHARED_SEED = REPO.parent / "shared" / "seed" / "imap_auth.txt"


def example_account(path: Path = VENDORED_SEED) -> dict[str, Any]:
    """The page's example response: the JSON object that starts on a line of its own, "{",
    after the request example (whose body sits inside a curl command, not on such a line)."""
    text = path.read_text(encoding="utf-8")
    start = text.rindex("\n{\n") + 1
    account, _ = json.JSONDecoder().raw_decode(text[start:])
    assert isinstance(account, dict)
    return account


def json_type(value: Any) -> str:
    """The JSON type of a decoded value: object, array, string, number, boolean or null."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def shape_differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where `actual` departs from the shape of `expected`, one line per difference.

    Objects must have exactly the same keys; every element of an array must have the shape of
    the expected array's first element (an empty array matches any); scalars must have the same
    JSON type.
    """
    kind, found = json_type(expected), json_type(actual)
    if kind != found:
        return [f"{path}: {found}, expected {kind}"]
    if kind == "object":
        differences = [f"{path}.{key}: missing" for key in expected if key not in actual]
        differences += [
            f"{path}.{key}: not in the example" for key in actual if key not in expected
        ]
        for key in expected.keys() & actual.keys():
            differences += shape_differences(expected[key], actual[key], f"{path}.{key}")
        return sorted(differences)
    if kind == "array" and expected:
        return [
            difference
            for index, item in enumerate(actual)
            for difference in shape_differences(expected[0], item, f"{path}[{index}]")
        ]
    return []
