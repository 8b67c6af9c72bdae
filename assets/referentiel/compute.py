"""Each referential indicator's value, trend and status for a year, read from the measures long table.

Status rules (stated in the bilan's method notes):
- `atteint`: the value meets the next target due (≥ for a rising indicator, ≤ for a falling one);
- with a reference value: `en bonne voie` when the value is at or beyond the straight path from the reference to
  the target at the data's year, `en retard` otherwise; a value no newer than the reference cannot be judged and
  is `non renseigné`;
- without a reference: `en bonne voie` when it moved the right way since the previous value, `en retard`
  otherwise (or when there is no previous value to judge a path);
- `non renseigné`, with the reason: no file of the family for the year, value under statistical secrecy, value
  not reported by the partner, or no data after the reference.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.config import MesureDeclaree, ProjectConfig, Territoire

STABLE = 1e-9
STATUT_PAR_QPV = "détail par QPV"  # a rate the partner gave per QPV only: known, but with no territory value
PAR_QPV = "taux donné QPV par QPV"


def _lookup(measures: pd.DataFrame, code: str, perimetre: str, cle: str | None) -> pd.Series | None:
    rows = measures[(measures["code_mesure"] == code) & (measures["perimetre"] == perimetre)
                    & ((measures["cle"] == cle) if cle else measures["cle"].isna())]
    return rows.iloc[0] if len(rows) else None


def _fmt(v: float) -> str:
    return f"{v:,.1f}".replace(",", " ").replace(".", ",")


def _missing_reason(con, config: ProjectConfig, territoire: str, annee: int, mesure: MesureDeclaree,
                    cle: str | None, perimetre: str) -> str:
    family = mesure.famille
    year = annee + next(f.decalage_annee for f in config.vocabulaire.termes("familles") if f.code == family)
    files = con.execute("SELECT count(*) FROM staging.qualite_fichiers WHERE famille = ? AND territoire = ? "
                        "AND annee_boite <= ? AND statut = 'accepte'", [family, territoire, annee]).fetchone()[0]
    if not files:
        return f"aucun fichier « {family} » reçu pour {annee}"
    if family == "indicateurs":
        secret = con.execute("SELECT bool_or(secret) FROM marts.indicateurs WHERE territoire = ? AND annee = ? "
                             "AND code_indicateur = ? AND perimetre = ?",
                             [territoire, annee, mesure.terme, perimetre]).fetchone()[0]
        if secret:
            return "valeur couverte par le secret statistique à la source"
        return "indicateur absent des fichiers reçus"
    if family == "engagements" and cle:
        row = con.execute("SELECT non_renseigne FROM marts.engagements WHERE territoire = ? AND annee = ? "
                          "AND cle = ? AND perimetre = ?", [territoire, annee, cle, perimetre]).fetchone()
        if row is None and perimetre == "territoire":
            per_qpv = _par_qpv(con, territoire, annee, cle)
            if per_qpv:
                return per_qpv
        if row is None:
            quarantined = con.execute(
                "SELECT fichier, ligne, regles, donnees->>'partenaire' AS partenaire, donnees->>'indicateur' AS "
                "indicateur FROM quarantine.lignes WHERE famille = 'engagements' AND territoire = ? "
                "AND annee_boite = ? ORDER BY fichier, ligne", [territoire, annee]).df()
            referentiel = config.referentiel(config.territoire(territoire).referentiel)
            codes = [referentiel.code_engagement(p, i) for p, i in zip(quarantined["partenaire"],
                                                                       quarantined["indicateur"], strict=True)]
            hit = quarantined[[c == cle for c in codes]]
            if len(hit) and hit["fichier"].iloc[0]:
                first = hit.iloc[0]
                return (f"ligne en quarantaine ({first['fichier']}, ligne {first['ligne']} : {first['regles']}) — "
                        "à corriger par le partenaire")
            return f"engagement « {cle} » absent des fichiers {annee} du partenaire"
        if row[0]:
            return "valeur réalisée non renseignée par le partenaire"
    return f"aucune donnée {year} pour cette mesure"


def _par_qpv(con, territoire: str, annee: int, cle: str) -> str | None:
    """A rate given QPV by QPV only: no territory value (a rate does not add up), but what the QPV pages show."""
    low, high, reported, committed = con.execute(
        "SELECT min(valeur_realisee), max(valeur_realisee), count(valeur_realisee), count(*) FROM marts.engagements "
        "WHERE territoire = ? AND annee = ? AND cle = ? AND perimetre <> 'territoire' AND unite = 'pourcentage'",
        [territoire, annee, cle]).fetchone()
    if not reported:
        return None
    return (f"{PAR_QPV} ({_fmt(low)} % à {_fmt(high)} %, {reported} QPV sur {committed}) : un taux ne "
            "s'additionne pas entre QPV, pas de valeur d'ensemble sans celle du partenaire")


def _status(ind, value: float, data_year: int, previous: float | None, target) -> tuple[str, str]:
    rising = ind.sens == "hausse"
    unit = " %" if ind.unite == "pourcentage" else ""
    if (value >= target.valeur) if rising else (value <= target.valeur):
        return "atteint", f"cible {target.annee} ({_fmt(target.valeur)}{unit}) atteinte"
    if ind.reference is not None:
        ref = ind.reference
        if data_year <= ref.annee:
            return ("non renseigné", f"aucune donnée postérieure à la référence {ref.annee} : évolution non mesurable "
                                     f"(valeur {_fmt(value)}{unit})")
        share = (data_year - ref.annee) / max(target.annee - ref.annee, 1)
        expected = ref.valeur + (target.valeur - ref.valeur) * min(share, 1)
        on_path = value >= expected if rising else value <= expected
        return (("en bonne voie" if on_path else "en retard"),
                f"trajectoire {ref.annee}→{target.annee} : {_fmt(expected)}{unit} attendu en {data_year}")
    if previous is None:
        return "en retard", f"sous la cible {target.annee} ({_fmt(target.valeur)}{unit}), sans valeur précédente"
    moved_right = value > previous if rising else value < previous
    return (("en bonne voie" if moved_right else "en retard"),
            f"sous la cible {target.annee} ({_fmt(target.valeur)}{unit}), "
            + ("en progression" if moved_right else "sans progression") + " depuis l'an dernier")


def _trend(value: float | None, previous: float | None) -> str | None:
    if value is None or previous is None:
        return None
    diff = value - previous
    return "stable" if abs(diff) <= STABLE + 1e-3 * abs(previous) else ("hausse" if diff > 0 else "baisse")


def compute_referentiel(con: duckdb.DuckDBPyConnection, config: ProjectConfig, territoires: list[Territoire],
                        annee: int) -> pd.DataFrame:
    rows = []
    for territoire in territoires:
        ref = config.referentiel(territoire.referentiel)
        declared = config.mesures.declarees(config.vocabulaire, config.catalogue(territoire.catalogue_indicateurs))
        measures = con.execute("SELECT * FROM referentiel.mesures WHERE territoire = ? AND annee IN (?, ?)",
                               [territoire.code, annee, annee - 1]).df()
        now, before = measures[measures["annee"] == annee], measures[measures["annee"] == annee - 1]
        for question, ind in ref.indicateurs:
            mesure = declared[ind.mesure]  # known: the referential is checked against the catalogue when loaded
            current = _lookup(now, ind.mesure, ind.perimetre, ind.cle)
            target = next((c for c in ind.cibles if c.annee >= annee), ind.cibles[-1])
            value = None if current is None else float(current["valeur"])
            data_year = None if current is None else int(current["annee_donnees"])
            previous, previous_year = None, None
            # an indicator's own value: its previous millésime, not last year's run (a millésime can stay put)
            if mesure.famille == "indicateurs" and not mesure.ecart and current is not None:
                prev = con.execute("SELECT valeur_precedente, millesime_precedent FROM marts.indicateurs WHERE "
                                   "territoire = ? AND annee = ? AND code_indicateur = ? AND perimetre = ?",
                                   [territoire.code, annee, mesure.terme, ind.perimetre]).fetchone()
                if prev and prev[0] is not None:
                    previous, previous_year = float(prev[0]), int(prev[1])
            else:
                last = _lookup(before, ind.mesure, ind.perimetre, ind.cle)
                if last is not None:
                    previous, previous_year = float(last["valeur"]), int(last["annee_donnees"])
            if value is None:
                reason = _missing_reason(con, config, territoire.code, annee, mesure, ind.cle, ind.perimetre)
                status = STATUT_PAR_QPV if reason.startswith(PAR_QPV) else "non renseigné"
            else:
                assert data_year is not None  # a measure row always carries the year of its data
                status, reason = _status(ind, value, data_year, previous, target)
            rows.append({
                "territoire": territoire.code, "annee": annee, "referentiel_version": ref.version,
                "question": question.code, "question_intitule": question.intitule, "critere": question.critere,
                "objectifs": ", ".join(question.objectifs), "code_indicateur": ind.code, "libelle": ind.libelle,
                "unite": ind.unite, "mesure": ind.mesure, "cle": ind.cle, "perimetre": ind.perimetre, "sens": ind.sens,
                "valeur": value, "annee_donnees": data_year, "valeur_precedente": previous,
                "annee_donnees_precedente": previous_year, "tendance": _trend(value, previous),
                "reference": ind.reference.valeur if ind.reference else None,
                "annee_reference": ind.reference.annee if ind.reference else None,
                "cible": target.valeur, "annee_cible": target.annee,
                "ecart_cible": None if value is None else value - target.valeur,
                "statut": status, "raison": reason,
                "source": None if current is None else current["source"],
                "effectif": None if current is None or pd.isna(current.get("effectif")) else float(current["effectif"]),
            })
    return pd.DataFrame(rows)
