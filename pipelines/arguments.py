"""`bilan`'s command line in French: argparse's own words (usage, help, errors) and the types of its options.

argparse looks its messages up through gettext when it writes them; they are given in French while `bilan`'s parser
works, and only then."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

# argparse's own messages, by their gettext msgid (Python 3.11 to 3.14); one it does not know stays as written
ARGPARSE_FR = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "optional arguments": "options",
    "%(heading)s:": "%(heading)s :",
    "show this help message and exit": "affiche cette aide et s'arrête",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "the following arguments are required: %s": "argument(s) obligatoire(s) manquant(s) : %s",
    "unrecognized arguments: %s": "argument(s) inconnu(s) : %s",
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r (%(type)s attendu)",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (au choix : %(choices)s)",
    "invalid choice: %(value)r, maybe you meant %(closest)r? (choose from %(choices)s)":
        "choix invalide : %(value)r, vouliez-vous dire %(closest)r ? (au choix : %(choices)s)",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "une valeur au plus attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "expected %s argument": "%s valeur attendue",
    "expected %s arguments": "%s valeurs attendues",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s peut désigner %(matches)s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "ignored explicit argument %r": "valeur %r ignorée",
    "unexpected option string: %s": "option inattendue : %s",
    "subcommands": "commandes",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "commande inconnue %(parser_name)r (au choix : %(choices)s)",
}


def _fr(message: str) -> str:
    return ARGPARSE_FR.get(message, message)


def _nfr(singular: str, plural: str, n: int) -> str:
    return _fr(singular if n == 1 else plural)


@contextmanager
def _argparse_in_french() -> Iterator[None]:
    """argparse looks its messages up through its module's `_` and `ngettext` when it writes them: they are
    replaced only while our parser builds, parses or prints, so no other user of argparse in the process (pytest)
    speaks French."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = _fr, _nfr  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


class FrenchParser(argparse.ArgumentParser):
    """ArgumentParser whose help, usage and errors are in French (its subcommands' parsers are of this class too)."""

    def __init__(self, *args, **kwargs) -> None:
        with _argparse_in_french():
            super().__init__(*args, **kwargs)

    def parse_args(self, *args, **kwargs):
        with _argparse_in_french():
            return super().parse_args(*args, **kwargs)

    def parse_known_args(self, *args, **kwargs):
        with _argparse_in_french():
            return super().parse_known_args(*args, **kwargs)

    def format_usage(self) -> str:
        with _argparse_in_french():
            return super().format_usage()

    def format_help(self) -> str:
        with _argparse_in_french():
            return super().format_help()

    def error(self, message: str):
        with _argparse_in_french():
            super().error(message)


def year(text: str) -> int:
    if not text.strip().isdigit() or len(text.strip()) != 4:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas une année (exemple : 2025)")
    return int(text)


def count(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre entier positif (exemple : 2)")
    return int(text)


def seconds(text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre de secondes (exemple : 600)")
    return value


