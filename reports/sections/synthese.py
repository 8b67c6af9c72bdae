"""The opening section: the written synthesis (reports/synthese.py), the key figures with their change over a
year, the referential's statuses by nature and the map of credits per inhabitant."""

from __future__ import annotations

from core.config.bilan import Section
from reports import charts, rejets, statuts
from reports.data import BilanData
from reports.format import points, signe, valeur
from reports.sections import Geography
from reports.synthese_ecrite import synthese_ecrite


def _evolution(now, before, unite: str | None, base_minimale: float) -> str:
    """The change over a year: in points for a rate, in units for a count under `base_minimale` last year, in
    percent otherwise."""
    if now is None or before is None:
        return ""
    if unite == "pourcentage":
        return points(now - before) + " sur un an"
    if unite == "nombre" and abs(before) < base_minimale:
        return signe(now - before, 0) + " sur un an"
    if before == 0:
        return ""
    change = 100 * (now / before - 1)
    return signe(change) + "\u00a0% sur un an"


def build(data: BilanData, section: Section, geography: Geography) -> dict:
    # the map writes each quartier's figure into its contour's properties: a copy, the other maps draw them bare
    features = ([dict(f, properties=dict(f["properties"])) for f in geography.features]
                if geography.features else None)
    communes = geography.communes
    figures = []
    for label, code in [
        ("Crédits accordés", "prog.montant_accorde"),
        ("dont BOP 147", "prog.montant_bop147"),
        ("Dossiers accordés", "prog.dossiers_accordes"),
        ("Part des dossiers en CPO", "prog.part_cpo_dossiers"),
        ("Effet levier du BOP 147", "prog.effet_levier_bop147"),
        (f"Participations aux actions {data.annee - 1}", "bilans.beneficiaires"),
        ("Couverture de l'abattement TFPB", "tfpb.taux_couverture"),
        ("Réalisation moyenne des engagements", "engagements.taux_realisation_moyen"),
    ]:
        now, before, unite = data.m(code), data.m(code, before=True), data.unite(code)
        change = _evolution(now, before, unite, data.seuils["base_minimale_pourcentage"])
        figures.append({"label": label, "valeur": valeur(now, unite), "evolution": change,
                        "mesure": code})
    out: dict = {"chiffres": figures, "statuts": statuts.comptes(data.referentiel, data.vocabulaire), "carte": None,
                 "carte_note": None, "ecrite": synthese_ecrite(data)}
    per_inhabitant = {r.perimetre: r.valeur for r in data.measures[data.measures["code_mesure"] ==
                                                                    "prog.montant_par_habitant"].itertuples()}
    if features:
        for f in features:
            f["properties"]["montant_par_habitant"] = per_inhabitant.get(f["properties"]["code"])
        out["carte"] = charts.qpv_map(features, f"Crédits accordés par habitant des QPV en {data.annee}",
                                      f"programmation {data.annee} ; contours des QPV (ANCT)",
                                      value="montant_par_habitant", value_title="€ par habitant", communes=communes)
    else:
        out["carte_note"] = "Carte non disponible : la géographie de référence des QPV n'a pas pu être lue."
    for c in figures:
        c["provisoire"] = rejets.note(data, c["mesure"])
    return out


