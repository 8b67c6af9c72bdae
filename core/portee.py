"""A run's scope: the territories it reads and writes.

A steward who receives a corrected file two days before the COPIL needs that territory's bilan, not a national
pass. A run carries its scope as the Dagster run tag `bilan/territoires` (« ccco » or « ccco,caph »; no tag: every
territory). The tag is what the UI shows in the run list and lets one filter on, what the inbox sensor sets for the
territories whose files changed, what `bilan run --territoire` sets, and what the launchpad accepts by hand.

A scoped run replaces the year's rows of its territories only, in every table it writes (`predicate`), and the
files of its territories only: every other territory's rows and files are left as they are, byte for byte. The
year stays the partition: a scoped run is a materialisation of the year's partition whose tag says which
territories it refreshed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TAG = "bilan/territoires"
# the ledger's key for a run over every territory (core/reprise.py)
NATIONAL_KEY = "*"
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class PorteeInvalide(ValueError):
    """A scope naming a territory that is not configured (French message)."""


@dataclass(frozen=True)
class Portee:
    territoires: tuple[str, ...] = ()   # sorted, distinct; empty: every territory

    @property
    def national(self) -> bool:
        return not self.territoires

    def keeps(self, territoire: str) -> bool:
        return self.national or territoire in self.territoires

    def predicate(self, column: str = "territoire") -> str:
        """The SQL condition that keeps the scope's rows. The codes are checked identifiers (`parse`): quoting
        them inline is safe, and lets DDL and views use it where DuckDB binds no parameter."""
        if self.national:
            return "true"
        return f"{column} IN ({', '.join(repr(t) for t in self.territoires)})"

    @property
    def key(self) -> str:
        """How the ledger (`journal.calculs`) and the run tag name this scope."""
        return ",".join(self.territoires) or NATIONAL_KEY

    def label(self) -> str:
        """The scope in a run's messages."""
        return "tous les territoires" if self.national else "territoire(s) " + ", ".join(self.territoires)

    def tags(self) -> dict[str, str]:
        return {} if self.national else {TAG: self.key}


NATIONALE = Portee()


def parse(value: str | Iterable[str] | None, known: Iterable[str] | None = None) -> Portee:
    """A scope from a tag value or a list of codes (« ccco,caph », [« ccco »]; empty or « * »: every territory),
    checked against the configured territories `known` when given."""
    if value is None:
        return NATIONALE
    parts = (value if isinstance(value, str) else ",".join(value)).split(",")
    codes = sorted({p.strip() for p in parts if p.strip()} - {NATIONAL_KEY})
    bad = [c for c in codes if not _CODE.match(c)]
    if bad:
        raise PorteeInvalide(f"portée du run : « {bad[0]} » n'est pas un code de territoire (lettres minuscules, "
                             "chiffres, tirets)")
    if known is not None:
        known = sorted(known)
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise PorteeInvalide(f"portée du run : territoire « {unknown[0]} » non configuré (territoires : "
                                 f"{', '.join(known)} ; config/territoires/<code>.yaml)")
    return Portee(tuple(codes))


def of_tags(tags: Mapping[str, str] | None, known: Iterable[str] | None = None) -> Portee:
    """The scope a run's tags give (no tag: every territory)."""
    return parse((tags or {}).get(TAG), known)
