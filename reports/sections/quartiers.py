"""A page per quartier. The commune bilan's is whole: its map, all its indicators beside the contract's QPV, its rank
and the department's QP, the actions aimed at it and its share of the credits, its landlords' TFPB and its partners'
commitments. The territory bilan's holds on one page: the map, its credits, its key indicators (`_key_indicators`),
its largest actions and its TFPB in one sentence, the rest counted and sent to the commune bilan. Past
`rendu.quartiers_en_pages` quartiers, the territory's bilan gives them as one table instead (population, credits,
credits per inhabitant, the needs indicators of the referential's orientations): a bilan's length does not grow with
the number of quartiers."""

from __future__ import annotations

import pandas as pd

from core.config.bilan import Section
from reports import charts
from reports.data import BilanData
from reports.format import euros, nombre, pct, pluriel, valeur
from reports.plafonds import plafonner
from reports.rejets import note, tfpb_row
from reports.sections import Geography
from reports.sections.commun import (
    SECRET,
    change,
    comparison_labels,
    evolution,
    gap,
    moins_couverts,
    moins_realises,
    objectif_titles,
)


def _ranks(indicateurs: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """(indicator, QPV) → (rank among the contract's QPV with a value, 1 = the highest; how many have one)."""
    shown = indicateurs[(indicateurs["perimetre"] != "territoire") & indicateurs["valeur"].notna()
                        & ~indicateurs["secret"].fillna(False).astype(bool)]
    out = {}
    for code, group in shown.groupby("code_indicateur"):
        ranks = group["valeur"].rank(method="min", ascending=False).astype(int)
        out.update({(code, q): (rank, len(group)) for q, rank in zip(group["perimetre"], ranks)})
    return out


def _key_indicators(data: BilanData) -> list[str]:
    """The indicators a quartier's page of the territory bilan shows, in this order: the needs indicators of the
    referential's orientations, then those its evaluative questions cite; at most `rendu.indicateurs_par_quartier`."""
    besoins = [b.indicateur for b in data.orientations.besoins] if data.orientations else []
    cited = ([str(m).split(".", 1)[1] for m in data.referentiel["mesure"] if str(m).startswith("indicateur.")]
             if "mesure" in data.referentiel else [])
    return list(dict.fromkeys(besoins + cited))[:data.rendu.indicateurs_par_quartier]


def _tfpb_summary(data: BilanData, code: str, rows: list[dict], landlords: int) -> dict | None:
    """A quartier's TFPB in one sentence: its landlords' dwellings, abatement, valued actions and coverage (the
    published QPV measures), and the landlords under full coverage by name (`rows`: the page's TFPB rows)."""
    if data.m("tfpb.abattement", code) is None:
        return None
    return {"bailleurs": nombre(landlords), "bailleurs_mot": pluriel(landlords, "bailleur"),
            "logements": nombre(data.m("tfpb.logements", code) or 0),
            "abattement": euros(data.m("tfpb.abattement", code) or 0),
            "valorise": euros(data.m("tfpb.valorise", code) or 0),
            "couverture": "—" if (taux := data.m("tfpb.taux_couverture", code)) is None else pct(taux, 0),
            "alertes": [r for r in rows if r["alerte"]]}




def build(data: BilanData, section: Section, geography: Geography) -> dict:
    """One page per quartier, the contents listing each of them; or, past the cap, one table."""
    pages = _pages(data, geography, comparison_labels(data.territoire)[0])
    if len(pages) <= data.rendu.quartiers_en_pages:
        return {"pages": pages, "tableau": None,
                "sommaire": [{"ancre": f"qpv-{p['code']}", "titre": section.intitule(nom=p["nom"])} for p in pages]}
    return {"pages": pages, "tableau": _table(data, pages),
            "sommaire": [{"ancre": "quartiers", "titre": "Les quartiers prioritaires"}]}


def _table(data: BilanData, pages: list[dict]) -> dict:
    """One row per quartier; the needs indicators of the orientations as columns, at their latest millésime."""
    indicateurs = data.table("indicateurs")
    besoins = [b.indicateur for b in data.orientations.besoins] if data.orientations else []
    labels: list[str] = []
    values: list[dict[str, str]] = []
    for code in besoins:
        rows = indicateurs[indicateurs["code_indicateur"] == code] if len(indicateurs) else indicateurs
        if len(rows):
            labels.append(str(rows.iloc[0]["libelle_indicateur"] or code))
            values.append({r.perimetre: SECRET if r.secret else valeur(r.valeur, r.unite) for r in rows.itertuples()})
    return {"colonnes": labels, "nombre": nombre(len(pages)),
            "lignes": [{"code": p["code"], "nom": p["nom"], "communes": p["communes"], "population": p["population"],
                        "montant": p["montant"], "par_habitant": p["par_habitant"],
                        "besoins": [v.get(p["code"], "—") for v in values]} for p in pages]}


def _pages(data: BilanData, geography: Geography, dep_label: str) -> list[dict]:
    features, commune_names, communes = geography.features, geography.commune_names, geography.communes
    programmation, indicateurs = data.table("programmation"), data.table("indicateurs")
    tfpb, engagements = data.table("tfpb"), data.table("engagements")
    pages = []
    # what each granted dossier is, to name the actions whose share of money the measures give
    dossiers = (programmation.drop_duplicates("numero_dossier").set_index("numero_dossier")
                if len(programmation) else pd.DataFrame())
    programmed = data.m("prog.montant_accorde") is not None
    titles = objectif_titles(data)
    key_indicators = _key_indicators(data)
    cibles = dossiers["qpv_cibles"].to_dict() if len(dossiers) else {}
    ranks = _ranks(indicateurs) if len(indicateurs) else {}
    whole = indicateurs[indicateurs["perimetre"] == "territoire"] if len(indicateurs) else pd.DataFrame()
    ensemble = {r.code_indicateur: SECRET if r.secret else valeur(r.valeur, r.unite) for r in whole.itertuples()}
    for q in data.qpv.itertuples():
        # a QPV shared with another EPCI: its communes in this contract named, the others counted, its figures
        # said to be the whole quartier's
        own = [c for c in q.communes if c in commune_names] or list(q.communes)
        shared = getattr(q, "partage", None) if isinstance(getattr(q, "partage", None), dict) else None
        page = {"code": q.code_qpv, "nom": q.nom_qpv, "population": nombre(data.m("prog.population", q.code_qpv)),
                "dep_label": dep_label, "source_population": data.territoire.source_population_qpv,
                "communes": ", ".join(commune_names.get(c, c) for c in own), "carte": None,
                "communes_mot": pluriel(len(own), "commune"),
                "partage": None if shared is None else {
                    "avec": shared["avec"], "part": pct(100 * shared["part_population"], 0),
                    "hors": len([c for c in q.communes if c not in own])}}
        if features:
            page["carte"] = charts.qpv_map(features, f"{q.nom_qpv} dans le territoire", "contours des QPV 2024 (ANCT)",
                                           highlight=q.code_qpv, communes=communes)
        ind = indicateurs[indicateurs["perimetre"] == q.code_qpv] if len(indicateurs) else pd.DataFrame()
        # each quartier beside the contract's QPV as a whole, the others (its rank), the department's QP, and its
        # previous millésime
        page["indicateurs"] = [{"libelle": r.libelle_indicateur or r.code_indicateur, "millesime": r.millesime,
                                "valeur": SECRET if r.secret else valeur(r.valeur, r.unite),
                                "evolution": change(r),
                                "ensemble": ensemble.get(r.code_indicateur, "—"),
                                "rang": (f"{rank[0]}{'er' if rank[0] == 1 else 'e'} sur {rank[1]}"
                                         if (rank := ranks.get((r.code_indicateur, q.code_qpv))) else "—"),
                                "dep": valeur(r.valeur_qpv_departement, r.unite),
                                "ecart_dep": gap(r.ecart_qpv_departement, r.unite)}
                               for r in ind.sort_values("code_indicateur").itertuples()] if len(ind) else []
        # the territory bilan's page: the key indicators in the referential's order, the others counted
        by_code = dict(zip(ind.sort_values("code_indicateur")["code_indicateur"], page["indicateurs"])) if len(ind) \
            else {}
        page["indicateurs_cles"] = [by_code[c] for c in key_indicators if c in by_code]
        page["indicateurs_autres"] = len(page["indicateurs"]) - len(page["indicateurs_cles"])
        if programmed:
            # actions for every QPV are summed in one line: the page lists what was aimed at this quartier
            shares = sorted(data.keyed("prog.montant_dossier", q.code_qpv).items(), key=lambda kv: (-kv[1], kv[0]))
            aimed = plafonner([(n, montant) for n, montant in shares if cibles.get(n) != "TOUS"],
                              data.rendu.lignes_par_tableau)
            page["actions"] = [{"dossier": n, "porteur": d.porteur, "intitule": d.intitule_action,
                                "objectif": titles.get(d.code_objectif, d.code_objectif), "montant": euros(montant),
                                "partage": d.qpv_cibles != q.code_qpv}
                               for n, montant in aimed.elements for d in [dossiers.loc[n]]]
            page["actions_plafond"] = aimed.resume("actions", "aux plus grandes parts du quartier")
            # the territory's bilan: the largest actions only, the others in the commune bilan and the annex
            short = plafonner(page["actions"], data.rendu.actions_par_quartier)
            page["actions_bilan"] = short.elements
            total, left = len(aimed.elements) + aimed.autres, short.autres + aimed.autres
            page["actions_bilan_plafond"] = (
                {"choix": f"Sur {nombre(total)} actions, les {nombre(len(short.elements))} aux plus grandes parts "
                          "du quartier :",
                 "autres": f"… et {nombre(left)} {pluriel(left, 'autre')} (voir le bilan communal et l'annexe XLSX)"}
                if short.autres else None)
            tous = data.m("prog.dossiers_tous_qpv") or 0
            page["actions_tous"] = {"nombre": nombre(tous),
                                    "part": "de l'action menée" if tous == 1 else f"des {nombre(tous)} actions menées",
                                    "montant": euros(data.m("prog.montant_tous_qpv", q.code_qpv) or 0)}
            page["montant"] = euros(data.m("prog.montant_accorde", q.code_qpv) or 0)
            before = data.m("prog.montant_accorde", q.code_qpv, before=True)
            page["avant"] = None if before is None else {
                "annee": data.annee - 1, "montant": euros(before),
                "evolution": evolution(data.m("prog.montant_accorde", q.code_qpv) or 0, before)}
            page["par_habitant"] = euros(data.m("prog.montant_par_habitant", q.code_qpv) or 0, 2)
        else:
            page["actions"], page["montant"], page["par_habitant"], page["actions_plafond"] = [], "—", "—", None
            page["actions_bilan"], page["actions_bilan_plafond"] = [], None
            page["actions_tous"], page["avant"] = None, None
        tf = plafonner(tfpb[tfpb["code_qpv"] == q.code_qpv] if len(tfpb) else pd.DataFrame(),
                       data.rendu.lignes_par_tableau, moins_couverts)
        page["tfpb"] = [{"bailleur": r.bailleur, "logements": nombre(r.nb_logements),
                         "abattement": euros(r.montant_abattement), "valorise": euros(r.montant_valorise),
                         "couverture": pct(r.taux_couverture, 0), "alerte": bool(r.alerte_couverture)}
                        for r in tf.elements.itertuples()] if len(tf.elements) else []
        page["tfpb_plafond"] = tf.resume("bailleurs", "à la couverture la plus basse, par ordre alphabétique")
        eng = plafonner(engagements[engagements["perimetre"] == q.code_qpv] if len(engagements)
                        else pd.DataFrame(), data.rendu.lignes_par_tableau, moins_realises)
        page["engagements"] = [{"partenaire": r.partenaire, "indicateur": r.indicateur, "cle": r.cle,
                                "cible": valeur(r.valeur_cible, r.unite), "realise": valeur(r.valeur_realisee, r.unite)}
                               for r in eng.elements.itertuples()] if len(eng.elements) else []
        page["engagements_plafond"] = eng.resume("engagements", "au taux de réalisation le plus bas (puis ceux sans "
                                                 "taux), listés par partenaire")
        page["provisoire"] = note(data, "prog.montant_accorde", page["code"])
        for t in page["tfpb"]:
            tfpb_row(t, data, page["code"])
        page["tfpb_resume"] = _tfpb_summary(data, q.code_qpv, page["tfpb"], len(tf.elements) + tf.autres)
        page["engagements_nombre"] = len(engagements[engagements["perimetre"] == q.code_qpv]) if len(engagements) else 0
        pages.append(page)
    return pages
