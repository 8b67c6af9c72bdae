"""Each referential indicator's value, trend and status for a year, read from the measures long table.

Status rules (stated in the bilan's method notes; the list and its labels: `statuts_indicateur` of
config/vocabulaire.yaml):
- `atteint`: the value meets the next target due (≥ for a rising indicator, ≤ for a falling one);
- otherwise the trend is observed from a starting point — the contract's reference when there is one, else the
  previous value — to the value, and:
  - `évolution non significative` when the change since the starting point is smaller than the indicator's
    significance threshold (referential YAML: `seuil_significativite`, or the default of its unit);
  - `en bonne voie` only when that trend, projected linearly, reaches the target by its year;
  - `en retard` otherwise (moving the wrong way, too slowly, or a first value with no trend to project);
  - `pas encore de donnée nouvelle` when the value is no newer than the reference (or than the previous value);
- with no value: `ligne rejetée` (a quarantined row would have fed it), `secret statistique`, `partenaire
  silencieux` (the partner left the value empty or did not report the line), `pas encore de donnée nouvelle`
  (a cohort has not reached the milestone yet), `non renseigné` otherwise (no file, indicator absent…);
- a value that a quarantined row would have changed is provisional: its status stands when the rejected rows
  cannot change it — a sum of money with their amount added keeps its status, or a share of a declared whole
  (config/mesures.yaml `base`) keeps it over the whole range they could move it to — otherwise it is `ligne
  rejetée`, and its reason says what the status would be without the rejected rows. Rows whose amount could not be
  read weigh an unknown amount: they leave the status withheld.
The wording follows the indicator's direction: a rising one is "sous la cible", a falling one is "au-dessus de la
cible : à réduire".
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from core.config.mesures import MesureDeclaree
from core.config.projet import ProjectConfig
from core.config.referentiel import Cible, IndicateurReferentiel
from core.config.territoire import Territoire
from core.warehouse import table_exists

ATTEINT = "atteint"
BONNE_VOIE = "en bonne voie"
RETARD = "en retard"
NON_SIGNIFICATIF = "évolution non significative"
PAS_ENCORE = "pas encore de donnée nouvelle"
SILENCIEUX = "partenaire silencieux"
SECRET = "secret statistique"
REJETEE = "ligne rejetée"
NON_RENSEIGNE = "non renseigné"
STATUT_PAR_QPV = "détail par QPV"  # a rate the partner gave per QPV only: known, but with no territory value
PAR_QPV = "taux donné QPV par QPV"
# the statuses decided here; config/vocabulaire.yaml `statuts_indicateur` lists the same codes (tested)
STATUTS = (ATTEINT, BONNE_VOIE, RETARD, NON_SIGNIFICATIF, PAS_ENCORE, SILENCIEUX, SECRET, REJETEE, STATUT_PAR_QPV,
           NON_RENSEIGNE)

STABLE = 1e-9
NON_NEGATIVE = ("nombre", "euros", "pourcentage", "ratio", "indice")


@dataclass(frozen=True)
class Point:
    """One observed value of an indicator and the year of its data."""

    annee: int
    valeur: float


@dataclass(frozen=True)
class Jugement:
    statut: str
    raison: str
    projection: float | None = None  # the value the observed trend reaches at the target's year


def _fmt(v: float, unite: str | None = None) -> str:
    digits = 0 if unite in ("nombre", "euros") and abs(v - round(v)) < 1e-9 else (2 if unite == "ratio" else 1)
    text = f"{v:,.{digits}f}".replace(",", " ").replace(".", ",").replace("-", "\u2212")
    return text + {"pourcentage": " %", "euros": " €"}.get(unite or "", "")


def _signed(v: float, unite: str | None) -> str:
    """A change: in points for a percentage, in the indicator's unit otherwise."""
    text = _fmt(abs(v), None if unite == "pourcentage" else unite)
    return ("+" if v >= 0 else "−") + text + (" point" + ("s" if abs(v) >= 2 else "") if unite == "pourcentage" else "")


def _reached(ind: IndicateurReferentiel, value: float, target: float) -> bool:
    return value >= target if ind.sens == "hausse" else value <= target


def _gap(ind: IndicateurReferentiel, target: Cible) -> str:
    """Where the value stands against a target it has not reached, in the indicator's direction."""
    where = f"cible {target.annee} ({_fmt(target.valeur, ind.unite)})"
    return f"sous la {where}" if ind.sens == "hausse" else f"au-dessus de la {where} : à réduire"


def juger(ind: IndicateurReferentiel, valeur: float, annee_donnees: int, precedent: Point | None, cible: Cible,
          seuil: float) -> Jugement:
    """The status of an indicator that has a value: `valeur` from the data of `annee_donnees`, `precedent` its
    previous value (previous millésime, or last year's), `cible` the next target due, `seuil` its significance
    threshold in its unit."""
    unite = ind.unite
    if _reached(ind, valeur, cible.valeur):
        return Jugement(ATTEINT, f"cible {cible.annee} ({_fmt(cible.valeur, unite)}) atteinte")
    gap = _gap(ind, cible)
    if ind.reference is not None:
        if annee_donnees <= ind.reference.annee:
            return Jugement(PAS_ENCORE, f"aucune donnée postérieure à la référence {ind.reference.annee} (valeur "
                                        f"{_fmt(valeur, unite)}) : évolution non mesurable ; {gap}")
        depart = Point(ind.reference.annee, ind.reference.valeur)
    elif precedent is not None and precedent.annee < annee_donnees:
        depart = precedent
    elif precedent is not None:
        return Jugement(PAS_ENCORE, f"valeur {annee_donnees} inchangée depuis le bilan précédent ; {gap}")
    else:
        return Jugement(RETARD, f"{gap} ; première valeur, aucune tendance observée")
    change = valeur - depart.valeur
    if abs(change) < seuil:
        return Jugement(NON_SIGNIFICATIF, f"{_signed(change, unite)} depuis {depart.annee}, sous le seuil de "
                                          f"significativité ({_signed(seuil, unite).lstrip('+')}) ; {gap}")
    if abs(change) <= STABLE:
        return Jugement(RETARD, f"{gap} ; aucune évolution depuis {depart.annee}")
    rising = ind.sens == "hausse"
    if (change < 0) if rising else (change > 0):
        return Jugement(RETARD, f"{gap} ; évolution dans le mauvais sens depuis {depart.annee} "
                                f"({_signed(change, unite)})")
    per_year = change / (annee_donnees - depart.annee)
    projection = valeur + per_year * max(cible.annee - annee_donnees, 0)
    if ind.unite in NON_NEGATIVE:
        # a count, an amount or a rate stops at zero: a trend of −2 a year from 3 is 0 in two years, not −1
        projection = max(projection, 0.0)
    trend = (f"tendance {depart.annee}→{annee_donnees} : {_signed(per_year, unite)} par an, soit "
             f"{_fmt(projection, unite)} projeté en {cible.annee}")
    if _reached(ind, projection, cible.valeur):
        return Jugement(BONNE_VOIE, f"{gap} ; {trend}", projection)
    return Jugement(RETARD, f"{gap} ; {trend}, cible non atteinte à ce rythme", projection)


def part_bornes(valeur: float, base: float, masse: float | None) -> tuple[float, float] | None:
    """The range a share (in %) of a whole `base` can take once rows weighing `masse` in all are added to the whole:
    none of them in the part, or all of them. None when the whole is unknown or empty."""
    if not base or base <= 0 or masse is None or masse < 0:
        return None
    part = valeur * base / 100
    return 100 * part / (base + masse), 100 * (part + masse) / (base + masse)


def rapport_bornes(numerateur: float, base: float, masse: float | None) -> tuple[float, float] | None:
    """The range a ratio (in %) of two sums can take once rows weighing `masse` in all are added to the one or the
    other: all of them to the denominator, or all to the numerator."""
    if not base or base <= 0 or masse is None or masse < 0:
        return None
    return 100 * numerateur / (base + masse), 100 * (numerateur + masse) / base


def statuts_entre(ind: IndicateurReferentiel, bas: float, haut: float, annee_donnees: int, precedent: Point | None,
                  cible: Cible, seuil: float) -> set[str]:
    """The statuses a value anywhere in [bas, haut] would have. `juger` is piecewise in the value — its statuses
    change only at the target, at the starting value ± the threshold, and once where the projection crosses the
    target, monotonic in between — so the ends and each side of those points give them all."""
    depart = Point(ind.reference.annee, ind.reference.valeur) if ind.reference is not None else precedent
    points = [bas, haut, cible.valeur]
    if depart is not None:
        points += [depart.valeur - seuil, depart.valeur + seuil, depart.valeur]
    eps = 1e-9 * max(1.0, abs(haut))
    probes = {min(max(x + d, bas), haut) for x in points for d in (-eps, 0.0, eps)}
    return {juger(ind, v, annee_donnees, precedent, cible, seuil).statut for v in probes}


def avec_rejets(jugement: Jugement, lignes_rejetees: int, montant_rejete: float | None = None,
                lignes: str | None = None, sans_valeur: bool = False,
                avec_elles: Jugement | None = None, entre: tuple[str, str] | None = None) -> Jugement:
    """A value that quarantined rows would have fed is provisional, a missing one may be missing because of them.
    The status of the accepted data stands, marked provisional, when the rejected rows cannot change it
    (`avec_elles`: the status with them, known for a sum of money, or over the range `entre` they could move a share
    to: `statuts_entre`); otherwise it is withheld as
    `ligne rejetée`, with the status the value has without them. The files and lines are not in the reason (the
    bilan's body): each partner's correction list has them (feedback workbook, annex)."""
    if not lignes_rejetees or jugement.statut == REJETEE:
        return jugement
    several = lignes_rejetees > 1
    what = f"{lignes_rejetees} ligne{'s' if several else ''} rejetée{'s' if several else ''}"
    if montant_rejete:
        what += f" ({_fmt(montant_rejete, 'euros')})"
    # the verbs agree with the rows: « 1 ligne rejetée (…) qui ne changerait pas », « 4 lignes … changeraient »
    if sans_valeur:
        fed = "l'auraient" if several else "l'aurait"
        return Jugement(REJETEE, f"aucune valeur retenue ; {what} en quarantaine {fed} alimentée — à corriger par "
                                 "le partenaire")
    if avec_elles is not None and avec_elles.statut == jugement.statut:
        span = (f" (avec {'elles' if several else 'elle'}, la valeur serait entre {entre[0]} et {entre[1]})"
                if entre else "")
        return Jugement(jugement.statut, f"{jugement.raison} — provisoire : {what} en quarantaine, qui ne "
                                         f"{'changeraient' if several else 'changerait'} pas ce statut{span}",
                        jugement.projection)
    return Jugement(REJETEE, f"provisoire : {what} en quarantaine "
                             f"{'alimenteraient' if several else 'alimenterait'} cette valeur et "
                             f"{'pourraient' if several else 'pourrait'} en changer le statut — à corriger ; "
                             f"sans {'elles' if several else 'elle'} : {jugement.statut} ({jugement.raison})",
                    jugement.projection)


def _missing(con, config: ProjectConfig, territoire: str, annee: int, mesure: MesureDeclaree,
             cle: str | None, perimetre: str, files: int) -> Jugement:
    """Why an indicator has no value, as a status and its reason; `files`: the family's accepted files for the
    territory up to this year."""
    family = mesure.famille
    year = annee + next(f.decalage_annee for f in config.vocabulaire.termes("familles") if f.code == family)
    if not files:
        return Jugement(NON_RENSEIGNE, f"aucun fichier « {family} » reçu pour {annee}")
    if family == "indicateurs":
        secret = con.execute("SELECT bool_or(secret) FROM marts.indicateurs WHERE territoire = ? AND annee = ? "
                             "AND code_indicateur = ? AND perimetre = ?",
                             [territoire, annee, mesure.terme, perimetre]).fetchone()[0]
        if secret:
            return Jugement(SECRET, "valeur couverte par le secret statistique à la source")
        return Jugement(NON_RENSEIGNE, "indicateur absent des fichiers reçus")
    if family == "engagements" and cle:
        row = con.execute("SELECT non_renseigne FROM marts.engagements WHERE territoire = ? AND annee = ? "
                          "AND cle = ? AND perimetre = ?", [territoire, annee, cle, perimetre]).fetchone()
        if row is None and perimetre == "territoire":
            per_qpv = _par_qpv(con, territoire, annee, cle)
            if per_qpv:
                return Jugement(STATUT_PAR_QPV, per_qpv)
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
                return Jugement(REJETEE, f"ligne en quarantaine ({first['fichier']}, ligne {first['ligne']} : "
                                         f"{first['regles']}) — à corriger par le partenaire")
            return Jugement(SILENCIEUX, f"engagement « {cle} » absent des fichiers {annee} du partenaire")
        if row[0]:
            return Jugement(SILENCIEUX, "valeur réalisée non renseignée par le partenaire")
    if family == "cohortes":
        return Jugement(PAS_ENCORE, f"aucune cohorte n'a encore de personne observée à ce jalon en {year}")
    return Jugement(NON_RENSEIGNE, f"aucune donnée {year} pour cette mesure")


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


def tendance(value: float | None, previous: float | None, seuil: float = 0.0) -> str | None:
    """The arrow beside the value: a change under the significance threshold is drawn flat."""
    if value is None or previous is None:
        return None
    diff = value - previous
    if abs(diff) < seuil or abs(diff) <= STABLE + 1e-3 * abs(previous):
        return "stable"
    return "hausse" if diff > 0 else "baisse"


# what the referential's indicators read, for every territory at once: this year's measure, last year's, an
# indicator's previous millésime, what quarantined rows would have fed it, the family's accepted files
# (`cle` matched with IS NOT DISTINCT FROM: a measure without key has a NULL key)
GATHER_SQL = """
SELECT s.i, n.valeur, n.annee_donnees, n.source, n.effectif,
       b.valeur AS valeur_avant, b.annee_donnees AS annee_donnees_avant,
       p.valeur_precedente, p.millesime_precedent,
       r.lignes_rejetees, r.montant_rejete, r.lignes, w.valeur AS valeur_base, x.valeur AS valeur_numerateur,
       coalesce(u.montants_illisibles, 0) AS montants_illisibles,
       coalesce(f.fichiers, 0) AS fichiers
FROM _indicateurs s
LEFT JOIN referentiel.mesures n ON n.territoire = s.territoire AND n.annee = $annee AND n.code_mesure = s.mesure
     AND n.perimetre = s.perimetre AND n.cle IS NOT DISTINCT FROM s.cle
LEFT JOIN referentiel.mesures b ON b.territoire = s.territoire AND b.annee = $annee - 1 AND b.code_mesure = s.mesure
     AND b.perimetre = s.perimetre AND b.cle IS NOT DISTINCT FROM s.cle
LEFT JOIN marts.indicateurs p ON s.millesime AND p.territoire = s.territoire AND p.annee = $annee
     AND p.code_indicateur = s.terme AND p.perimetre = s.perimetre
LEFT JOIN referentiel.mesures w ON w.territoire = s.territoire AND w.annee = $annee AND w.code_mesure = s.base
     AND w.perimetre = s.perimetre AND w.cle IS NOT DISTINCT FROM s.cle
LEFT JOIN referentiel.mesures x ON x.territoire = s.territoire AND x.annee = $annee AND x.code_mesure = s.numerateur
     AND x.perimetre = s.perimetre AND x.cle IS NOT DISTINCT FROM s.cle
LEFT JOIN {rejets} r ON r.territoire = s.territoire AND r.annee = $annee AND r.code_mesure = s.mesure
     AND r.perimetre = s.perimetre AND r.cle IS NOT DISTINCT FROM s.cle AND r.lignes_rejetees > 0
LEFT JOIN {illisibles} u ON u.territoire = s.territoire AND u.code_mesure = s.mesure
     AND u.perimetre = s.perimetre AND u.cle IS NOT DISTINCT FROM s.cle
LEFT JOIN (SELECT famille, territoire, count(*) AS fichiers FROM staging.qualite_fichiers
           WHERE annee_boite <= $annee AND statut = 'accepte' GROUP BY ALL) f
     ON f.famille = s.famille AND f.territoire = s.territoire
QUALIFY row_number() OVER (PARTITION BY s.i) = 1
ORDER BY s.i
"""
# rejected rows whose amount could not be read: their sum says nothing of what they weigh
ILLISIBLES = ("(SELECT territoire, code_mesure, perimetre, cle, count(*) - count(montant) AS montants_illisibles "
              "FROM marts.lignes_mesures WHERE annee = $annee AND rejetee GROUP BY ALL)")
ILLISIBLES_ABSENTS = ("(SELECT NULL::VARCHAR AS territoire, NULL::VARCHAR AS code_mesure, NULL::VARCHAR AS perimetre, "
                      "NULL::VARCHAR AS cle, NULL::BIGINT AS montants_illisibles WHERE false)")
REJETS_ABSENTS = ("(SELECT NULL::VARCHAR AS territoire, NULL::INTEGER AS annee, NULL::VARCHAR AS code_mesure, "
                  "NULL::VARCHAR AS perimetre, NULL::VARCHAR AS cle, NULL::BIGINT AS lignes_rejetees, "
                  "NULL::DOUBLE AS montant_rejete, NULL::VARCHAR AS lignes WHERE false)")


def _gathered(con: duckdb.DuckDBPyConnection, indicateurs: pd.DataFrame, annee: int) -> pd.DataFrame:
    rejets = "marts.mesures_rejets" if table_exists(con, "marts", "mesures_rejets") else REJETS_ABSENTS
    illisibles = ILLISIBLES if table_exists(con, "marts", "lignes_mesures") else ILLISIBLES_ABSENTS
    con.register("_indicateurs", indicateurs)
    try:
        return con.execute(GATHER_SQL.format(rejets=rejets, illisibles=illisibles), {"annee": annee}).df()
    finally:
        con.unregister("_indicateurs")


def _number(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def compute_referentiel(con: duckdb.DuckDBPyConnection, config: ProjectConfig, territoires: list[Territoire],
                        annee: int) -> pd.DataFrame:
    """The referential's indicators of every territory: what they read is gathered in one query (GATHER_SQL);
    each indicator's status and its reason are then worded by `juger`, in Python (rules read by evaluators)."""
    specs = []  # the configuration (≈ 60 indicators a territory), not data rows
    for territoire in territoires:
        ref = config.referentiel(territoire.referentiel)
        declared = config.mesures.declarees(config.vocabulaire, config.catalogue(territoire.catalogue_indicateurs))
        for question, ind in ref.indicateurs:
            specs.append((territoire, ref, question, ind, declared[ind.mesure]))  # checked when loaded
    indicateurs = pd.DataFrame({
        "i": range(len(specs)), "territoire": [t.code for t, *_ in specs], "mesure": [i.mesure for *_, i, _ in specs],
        "perimetre": [i.perimetre for *_, i, _ in specs], "cle": [i.cle or None for *_, i, _ in specs],
        "famille": [m.famille for *_, m in specs], "terme": [m.terme for *_, m in specs],
        # an indicator's own value is compared with its previous millésime, not last year's run (a millésime can
        # stay put)
        "millesime": [m.famille == "indicateurs" and not m.ecart for *_, m in specs],
        # a share's whole (config/mesures.yaml `base`), to bound what its quarantined rows could change
        "base": [m.base[0] if m.base else None for *_, m in specs],
        "numerateur": [m.base[2] if m.base else None for *_, m in specs]})
    gathered = _gathered(con, indicateurs.astype({"cle": "object"}), annee) if specs else pd.DataFrame()
    rows = []
    for (territoire, ref, question, ind, mesure), found in zip(specs, gathered.itertuples(index=False), strict=True):
        target = next((c for c in ind.cibles if c.annee >= annee), ind.cibles[-1])
        value = _number(found.valeur)
        data_year = None if value is None else int(found.annee_donnees)
        if mesure.famille == "indicateurs" and not mesure.ecart:
            previous = None if value is None else _number(found.valeur_precedente)
            previous_year = None if previous is None else int(found.millesime_precedent)
        else:
            previous = _number(found.valeur_avant)
            previous_year = None if previous is None else int(found.annee_donnees_avant)
        seuil = ref.seuil(ind)
        before = None if previous is None or previous_year is None else Point(previous_year, previous)
        if value is None:
            jugement = _missing(con, config, territoire.code, annee, mesure, ind.cle, ind.perimetre,
                                int(found.fichiers))
        else:
            assert data_year is not None  # a measure row always carries the year of its data
            jugement = juger(ind, value, data_year, before, target, seuil)
        # what quarantined rows would have fed (marts.mesures_rejets, built from the quarantine)
        n_rejected = 0 if pd.isna(found.lignes_rejetees) else int(found.lignes_rejetees)
        if n_rejected:
            # what the rejected rows weigh in money, when every one of them has a readable amount
            money = _number(found.montant_rejete) if not found.montants_illisibles else None
            # a sum of money: the rejected rows would add their amount, so the status with them is known; a share
            # of a declared whole: they could move it between none of them in the part and all of them
            with_them, span = None, None
            if value is not None and data_year is not None and money is not None and ind.unite == "euros":
                with_them = juger(ind, value + money, data_year, before, target, seuil)
            elif value is not None and data_year is not None and mesure.base is not None:
                mass = money if mesure.base[1] == "montant" else n_rejected
                base = _number(found.valeur_base) or 0.0
                numerator = _number(found.valeur_numerateur)
                bounds = (part_bornes(value, base, mass) if mesure.base[2] is None
                          else None if numerator is None else rapport_bornes(numerator, base, mass))
                if bounds is not None and statuts_entre(ind, *bounds, data_year, before, target,
                                                        seuil) == {jugement.statut}:
                    with_them = jugement
                    span = (_fmt(bounds[0], "pourcentage"), _fmt(bounds[1], "pourcentage"))
            jugement = avec_rejets(jugement, n_rejected, money, None if pd.isna(found.lignes) else str(found.lignes),
                                   value is None, with_them, span)
        rows.append({
            "territoire": territoire.code, "annee": annee, "referentiel_version": ref.version,
            "question": question.code, "question_intitule": question.intitule, "critere": question.critere,
            "objectifs": ", ".join(question.objectifs), "code_indicateur": ind.code, "libelle": ind.libelle,
            "unite": ind.unite, "mesure": ind.mesure, "cle": ind.cle, "perimetre": ind.perimetre, "sens": ind.sens,
            "nature": ind.nature or mesure.nature, "seuil_significativite": seuil,
            "valeur": value, "annee_donnees": data_year, "valeur_precedente": previous,
            "annee_donnees_precedente": previous_year, "tendance": tendance(value, previous, seuil),
            "reference": ind.reference.valeur if ind.reference else None,
            "annee_reference": ind.reference.annee if ind.reference else None,
            "cible": target.valeur, "annee_cible": target.annee,
            "ecart_cible": None if value is None else value - target.valeur,
            "projection_cible": jugement.projection, "lignes_rejetees": n_rejected,
            "statut": jugement.statut, "raison": jugement.raison,
            "source": None if value is None else found.source,
            "effectif": None if value is None else _number(found.effectif),
        })
    return pd.DataFrame(rows)
