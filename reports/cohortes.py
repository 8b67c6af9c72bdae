"""How the bilan shows a CPO's cohort: expected people beside those observed, the positive-exit rate by sex."""

from __future__ import annotations

import pandas as pd

from reports.format import pct

NOT_DUE = "non échu"      # expected people not comparable with those observed (see the note of the section)
NO_DUE_DATE = "sans objet"  # the exit has no due date: nobody is expected there


def _shown(value) -> bool:
    return isinstance(value, str) and value.isdigit()


def attendus(expected, observed, jalon: str, exit_code: str | None) -> str:
    """Expected people at a jalon, as shown beside those observed. Expected counts those whose jalon was due by the
    31st of December; a partner may observe someone before the due date, so an expected count under the observed
    one (shown, or hidden as « < 5 » beside « 41 ») says nothing about the follow-up: shown « non échu » instead,
    which hides no more than secrecy did and never contradicts the observed count."""
    if jalon == exit_code:
        return NO_DUE_DATE
    if _shown(observed) and (not _shown(expected) or int(expected) < int(observed)):
        return NOT_DUE
    return expected if isinstance(expected, str) and expected else "—"


def by_sex(rows: pd.DataFrame, sexes: dict[str, str], operateurs: dict[str, str], secret: str) -> list[dict]:
    """The positive-exit rate by sex at one jalon (`rows`: publication.cohortes_jalons rows of that jalon); a rate
    or count withheld by secrecy shown as such."""
    part = rows[rows["dimension"] == "sexe"]
    return [{"cpo": operateurs.get(r.reference_cpo, r.reference_cpo), "cohorte": int(r.cohorte),
             "sexe": sexes.get(r.modalite, r.modalite), "observes": r.observes if isinstance(r.observes, str) else "—",
             "taux": secret if pd.isna(r.taux_sortie_positive) else pct(r.taux_sortie_positive, 0)}
            for r in part.sort_values(["reference_cpo", "cohorte", "modalite"]).itertuples()]
