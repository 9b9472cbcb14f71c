"""The command line: `bulk-onboard run|validate|check|sync|report|sandbox`.

Builds the parser from `bulk_onboard.commands` (one module per command), refuses an API key on
the command line, and turns what a command raises into its exit code and one sentence.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from bulk_onboard.base.collector import for_a_command
from bulk_onboard.base.printable import printable
from bulk_onboard.base.version import __version__
from bulk_onboard.commands import check, report, run, sandbox, sync, validate
from bulk_onboard.commands.options import KEY_ENV
from bulk_onboard.errors import BulkOnboardError, ExitCode
from bulk_onboard.logs import setup_logging

log = logging.getLogger("bulk_onboard")
# Option names (letters only, any case) taken for an attempt to pass the key: `--api-key` and
# what argparse would once have read as it (`--api-k`, `--api-ke`), `--apikey`, `--key`.
_KEY_NAMES = frozenset({"apik", "apike", "apikey", "key"})
# In the order `--help` lists them.
COMMANDS = (run, sync, validate, check, report, sandbox)
MAINS: dict[str, Callable[[argparse.Namespace, Sequence[str]], int]] = {
    module.__name__.rpartition(".")[2]: module.main for module in COMMANDS
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (with where to look) instead of the usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bulk-onboard",
        description="Onboard a spreadsheet of mailboxes into MailReach (POST /v1/imap_auth).",
        # No abbreviations, here and in every command's parser: `--api-k KEY` would otherwise
        # be read as `--api-key-file KEY`, and the key would end up in messages and manifest.json.
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"bulk-onboard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    for_a_command()
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] != ["sandbox"] and _key_given(args_list):
        print(
            f"error: The API key is never accepted on the command line (other users can read "
            f"it); set {KEY_ENV} or use --api-key-file PATH.",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    parser = build_parser()
    args, unknown = parser.parse_known_args(args_list)
    if unknown:
        # argparse would echo them all; a value among them may be a password or the key.
        command = _command_parser(parser, getattr(args, "command", None))
        command.error(
            f"unrecognized arguments: {_names_only(unknown)}{_did_you_mean(command, unknown)}"
        )
    setup_logging(getattr(args, "log_format", "text"))
    try:
        return MAINS[args.command](args, args_list)
    except BulkOnboardError as error:
        log.error("error: %s", error, extra={"event": "error"})
        return error.exit_code
    except KeyboardInterrupt:
        return ExitCode.SIGINT
    finally:
        _ignore_signals()


def _key_given(args: Sequence[str]) -> bool:
    """Whether an option before `--` looks like the API key passed on the command line."""
    for arg in args:
        if arg == "--":
            return False
        if arg.startswith("-"):
            name = "".join(ch for ch in arg.split("=", 1)[0].casefold() if ch.isalpha())
            if name in _KEY_NAMES:
                return True
    return False


def _command_parser(
    parser: argparse.ArgumentParser, command: str | None
) -> argparse.ArgumentParser:
    """The parser of `command` (its errors name it: `bulk-onboard run: error: ...`)."""
    for action in parser._actions:  # argparse keeps its subparsers nowhere public
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            found: argparse.ArgumentParser = action.choices[command]
            return found
    return parser


def _did_you_mean(parser: argparse.ArgumentParser, unknown: Sequence[str]) -> str:
    """ "; did you mean --concurrency?" for the first unknown option close to one of the
    command's own (a typo, or a prefix: abbreviations are refused, as they break when an
    option is added)."""
    import difflib  # only on this error: every command would pay for its import

    options = [name for name in parser._option_string_actions if name.startswith("--")]
    for arg in unknown:
        name = arg.split("=", 1)[0]
        if not name.startswith("--"):
            continue
        close = difflib.get_close_matches(name, options, n=1, cutoff=0.75)
        close = close or sorted(option for option in options if option.startswith(name))[:1]
        if close:
            return f"; did you mean {close[0]}?"
    return ""


def _names_only(unknown: Sequence[str]) -> str:
    """Unrecognised arguments as an error may show them: option names, no values."""
    names = [arg.split("=", 1)[0] for arg in unknown if arg.startswith("-")]
    values = len(unknown) - len(names) + sum("=" in arg for arg in unknown if arg.startswith("-"))
    shown = " ".join(printable(name, 40) for name in names)
    if values:
        what = f"{values} values (not shown: they" if values > 1 else "1 value (not shown: it"
        shown += f"{' and ' if shown else ''}{what} may be a secret)"
    return shown


def _ignore_signals() -> None:
    """The job is over and its reports are written: a late Ctrl-C or SIGTERM must not turn the
    exit code it earned into a death by signal.

    A SIGINT landing while the handlers are being replaced raises KeyboardInterrupt here, which
    would escape `main` and kill the process with the signal: try again until both are ignored
    (once they are, CPython drops a signal still pending instead of raising it).
    """
    while True:
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)
            return
        except KeyboardInterrupt:
            continue
