"""The ``fastmask`` command's argument parser: argparse's, with close-match suggestions for a
mistyped flag, subcommand or choice (``--resutls`` -> ``--results``, ``davis2071`` ->
``davis2017``), since argparse alone only says that ``--results`` is required."""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn


def fail(cmd: str, msg: str) -> None:
    """``cmd: msg`` on stderr: the one error line of every ``fastmask`` command."""
    print(f"{cmd}: {msg}", file=sys.stderr)


def suggest(word: str, choices: Sequence[str]) -> str | None:
    """The closest of ``choices`` to ``word`` (difflib), or ``None``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _options(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of ``parser`` and of its subcommands."""
    found = list(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += [o for o in _options(sub) if o not in found]
    return found


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors add ``did you mean ...?`` (subparsers inherit it)."""

    _argv: list[str]

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def _hints(self, message: str) -> list[str]:
        hints = []
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            close = suggest(m.group(1), re.findall(r"'([^']*)'", m.group(2)))
            if close:
                hints.append(f"did you mean {close!r}?")
        known = _options(self)
        unrecognized = message.startswith("unrecognized arguments:")
        tokens = message.split(":", 1)[1].split() if unrecognized else getattr(self, "_argv", [])
        for token in tokens:
            flag = token.split("=", 1)[0]
            if flag.startswith("--") and flag not in known:
                close = suggest(flag, known)
                hints.append(
                    f"{flag} is not an option" + (f"; did you mean {close}?" if close else "")
                )
        return hints

    def error(self, message: str) -> NoReturn:
        hints = self._hints(message)
        if hints:
            message += "\n" + "\n".join(f"  {h}" for h in hints)
        super().error(message)
