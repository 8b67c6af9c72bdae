"""The follow-up of the CPO's beneficiaries: per CPO and cohort, each jalon's expected and observed people, their
situations and rates (secrecy applied at publication), the chart of positive exits and the rate by sex."""

from __future__ import annotations

import pandas as pd

from core.config.bilan import Section
from reports import charts
from reports.data import BilanData
from reports.format import nombre, pct, pluriel
from reports.plafonds import plafonner
from reports.sections.commun import SECRET, objectif_titles
from reports.sections.commun import missing as missing_notice
from reports.sections.commun import operateurs as cpo_operators

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


def _rate(value) -> str:
    """A published cohort rate: withheld only by secrecy (publication.cohortes_jalons)."""
    return SECRET if pd.isna(value) else pct(value, 0)


def build(data: BilanData, section: Section, geography) -> dict:
    missing = missing_notice(data, section.famille)
    if missing:
        return {"absent": missing}
    c = data.table("cohortes_jalons")
    overall = c[c["dimension"] == "ensemble"]
    # one line of the chart and one table per CPO and cohort: the largest cohorts at entry when there are many
    entry = {t.code for t in data.vocabulaire.termes("jalons") if t.mois == 0}
    size = {(r.reference_cpo, r.cohorte): int(r.observes) if str(r.observes).isdigit() else 0
            for r in overall[overall["jalon"].isin(entry)].itertuples()}
    cohorts = plafonner(sorted(set(zip(overall["reference_cpo"], overall["cohorte"]))),
                        data.rendu.elements_par_graphique, lambda k: -size.get(k, 0))
    if cohorts.autres:
        kept = set(cohorts.elements)
        c = c[[k in kept for k in zip(c["reference_cpo"], c["cohorte"])]]
        overall = c[c["dimension"] == "ensemble"]
    jalons, situations = data.vocabulaire.libelles("jalons"), data.vocabulaire.libelles("situations")
    after_entry = [t.code for t in data.vocabulaire.termes("jalons") if t.mois != 0]  # a rate at entry means nothing
    # the exit (a jalon without a delay) is a smaller, self-selected group: drawn apart from the follow-up line
    exit_code = next((t.code for t in data.vocabulaire.termes("jalons") if t.mois is None), None)
    tables = []
    operateurs, titles = cpo_operators(data), objectif_titles(data)
    for (cpo, cohort), rows in overall.groupby(["reference_cpo", "cohorte"], sort=True):
        tables.append({"cpo": cpo, "operateur": operateurs.get(cpo, cpo), "cohorte": int(cohort),
                       "objectif": titles.get(rows["code_objectif"].iloc[0] or "", rows["code_objectif"].iloc[0] or ""),
                       "lignes": [{"jalon": jalons[r.jalon], "observes": r.observes,
                                   "attendus": attendus(r.attendus, r.observes, r.jalon, exit_code),
                                   **{s: getattr(r, s) for s in situations},
                                   "taux_positif": _rate(r.taux_sortie_positive),
                                   "taux_durable": _rate(r.taux_emploi_durable),
                                   "taux_perdus": _rate(r.taux_perdus_de_vue)} for r in rows.itertuples()]})
    series = [{"serie": f"{operateurs.get(r.reference_cpo, r.reference_cpo)} (cohorte {int(r.cohorte)})",
               "jalon": jalons[r.jalon],
               "taux": r.taux_sortie_positive}
              for r in overall.itertuples() if r.jalon in after_entry and pd.notna(r.taux_sortie_positive)]
    # a chart of a few points says how many rates secrecy left out, not only the rule
    followed = int(overall["jalon"].isin(after_entry).sum())
    hidden = (f" ; {nombre(len(series))} {pluriel(len(series), 'taux publié', 'taux publiés')} sur "
              f"{nombre(followed)}, les autres couverts par le secret statistique (voir « Méthode »)"
              if followed > len(series) else "")
    chart = charts.cohort_rates(pd.DataFrame(series), "Sorties positives à chaque jalon, par CPO et cohorte",
                                f"suivi des bénéficiaires des CPO ; taux non publiés sous "
                                f"{data.secret['denominateur_minimal']} personnes{hidden}",
                                order=[jalons[j] for j in after_entry if j != exit_code],
                                sortie=jalons[exit_code] if exit_code else None) if series else None
    twelve = c[(c["jalon"] == "12_mois") & (c["dimension"] != "ensemble")]
    breakdown = [{"cpo": operateurs.get(r.reference_cpo, r.reference_cpo), "cohorte": int(r.cohorte),
                  "dimension": {"sexe": "Sexe", "tranche_age": "Âge à l'entrée",
                                "residence": "Résidence"}[r.dimension], "modalite": r.modalite,
                  "observes": r.observes, "positives": r.sorties_positives, "taux": _rate(r.taux_sortie_positive)}
                 for r in twelve.itertuples()]
    return {"absent": None, "tables": tables, "graphique": chart, "situations": situations, "detail_12_mois": breakdown,
            "plafond": cohorts.resume("cohortes de CPO", "les plus nombreuses à l'entrée, par CPO"),
            "seuils": data.secret, "par_sexe": by_sex(twelve, data.vocabulaire.libelles("sexes"),
                                                                     operateurs, SECRET)}
