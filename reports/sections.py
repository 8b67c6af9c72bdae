"""The bilan's sections as plain data for the template: formatted figures, tables, charts, and for each the
measures and families it comes from. One function per section; a missing family gives a notice, not a failure."""

from __future__ import annotations

import pandas as pd

from reports import charts, contenu, statuts
from reports import cohortes as cohort_display
from reports.data import BilanData
from reports.format import NBSP, compte, euros, nombre, pct, pluriel, points, ratio, signe, texte_chiffres, valeur
from reports.plafonds import plafonner, plafonner_texte

SECRET = "secret statistique"  # what a withheld figure shows (a count under the threshold shows « < 5 »)


def method_notes(data: BilanData) -> list[str]:
    """The method notes of the bilan and its annex; thresholds from config/settings.yaml (`seuils`)."""
    seuils = data.seuils
    positives = [f"« {t.libelle} »" for t in data.vocabulaire.termes("situations") if t.positive]
    return [
        "Crédits : montants accordés des dossiers accordés (par au moins un de leurs financeurs) de la programmation "
        "de l'année, tous financeurs ; les répartitions par financeur, objectif et QPV en sont des parts.",
        "Un dossier qui vise plusieurs QPV est réparti entre eux au prorata de leur population (« TOUS » = tous les "
        "QPV du territoire) ; les montants par QPV sont donc des estimations.",
        "Effet levier du BOP 147 : autres crédits accordés pour chaque euro de BOP 147, sur les seuls dossiers que le "
        "BOP 147 cofinance.",
        f"Part des CPO : en nombre de dossiers et en montant, tous financeurs et BOP 147 seul (la circulaire vise "
        f"{pct(seuils['part_cpo_visee'], 0)}).",
        "Bilans d'actions : le bilan de l'année Y présente la programmation de Y et les bilans complets des actions de "
        "Y-1 ; un bilan plus récent d'un même dossier remplace le précédent. Parts de femmes, de résidents des QPV et "
        "de moins de 26 ans calculées sur les bilans qui donnent la répartition (Σ parties / Σ totaux).",
        "Engagements : rattachés au référentiel par les codes de partenaire et d'indicateur qu'il déclare (avec les "
        "variantes d'écriture des partenaires) ; une valeur réalisée vide signifie « non renseigné », jamais zéro ; un "
        "engagement donné QPV par QPV a pour valeur d'ensemble la somme des QPV renseignés s'il s'agit d'un nombre ou "
        "d'euros (« partiel » si des QPV manquent, taux de réalisation sur la cible de ces mêmes QPV), aucune s'il "
        "s'agit d'un taux (jamais additionné entre QPV) ; le taux moyen de réalisation plafonne chaque engagement à "
        "100 %.",
        "TFPB : l'abattement est compté une fois par bailleur et par QPV (ligne patrimoine), jamais par action ; "
        f"couverture = contreparties valorisées / abattement, alerte sous {pct(seuils['couverture_tfpb'], 0)}.",
        "Indicateurs : dernier millésime disponible ; la valeur de l'ensemble des QPV est celle publiée par la source, "
        "ou Σ numérateurs / Σ dénominateurs si chaque QPV les donne ; les écarts sont en points de pourcentage au même "
        "millésime. Deux millésimes proches ne mesurent pas une évolution significative à l'échelle infra-communale.",
        "Statuts du référentiel : « atteint » si la cible de la prochaine échéance (2027, puis 2030) est atteinte "
        "(au-dessus pour un indicateur qui doit monter, au-dessous pour un indicateur à réduire) ; sinon la tendance "
        "observée depuis la valeur de référence, à défaut depuis la valeur précédente, est prolongée en ligne droite "
        "jusqu'à l'échéance : « en bonne voie » seulement si elle y atteint la cible, « en retard » sinon (et pour une "
        "première valeur, sans tendance) ; « évolution non significative » si l'écart est sous le seuil de "
        "l'indicateur (référentiel, en points pour un taux). Sans valeur : « pas encore de donnée nouvelle », "
        "« partenaire silencieux », « secret statistique », « ligne rejetée » (une ligne en quarantaine l'aurait "
        "alimentée ; une valeur qu'elle aurait changée est aussi provisoire) ou « non renseigné », avec la raison. "
        "Les indicateurs de moyens (crédits, activité des partenaires) et de résultats (situation des habitants) sont "
        "comptés à part.",
        "Cohortes : une cohorte réunit les personnes entrées dans une CPO une même année ; sortie positive : "
        f"{', '.join(positives[:-1])} ou {positives[-1]} ; taux calculés sur les personnes observées au jalon.",
    ]


def _missing(data: BilanData, family: str) -> str | None:
    if data.families_present.get(family):
        return None
    return (f"Aucun fichier « {data.vocabulaire.libelles('familles')[family]} » n'a été reçu pour {data.annee} : "
            "cette partie ne peut pas être établie. Voir la partie Qualité des données.")


def _evolution(now, before, unite: str | None) -> str:
    if now is None or before is None:
        return ""
    if unite == "pourcentage":
        return points(now - before) + " sur un an"
    if before == 0:
        return ""
    change = 100 * (now / before - 1)
    return signe(change) + "\u00a0% sur un an"


def synthese(data: BilanData, features: list[dict] | None, communes: list[dict] | None = None) -> dict:
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
        figures.append({"label": label, "valeur": valeur(now, unite), "evolution": _evolution(now, before, unite),
                        "mesure": code})
    out: dict = {"chiffres": figures, "statuts": statuts.comptes(data.referentiel, data.vocabulaire), "carte": None,
                 "carte_note": None}
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
    return out


def _manquants(data: BilanData, famille: str | None = None) -> list[str]:
    """Expected files not received, named in words: « Engagements des partenaires — ARS Hauts-de-France »."""
    labels = data.vocabulaire.libelles("familles")
    pairs = [m.split(" — ", 1) for m in data.fichiers_manquants]
    return [f"{labels.get(f, f)[:1].upper()}{labels.get(f, f)[1:]} — {who}" for f, who in pairs
            if famille is None or f == famille]


def _objectif_titles(data: BilanData) -> dict[str, str]:
    titles = {o["code"]: o["intitule"] for a in data.axes for o in a["objectifs"]}
    titles.update({a["code"]: f"priorité {a['code']}" for a in data.axes})
    return titles


def _operateurs(data: BilanData) -> dict[str, str]:
    """Each CPO's operator (the porteur of its dossiers in the programmation), to name a CPO by who runs it."""
    p = data.programmation
    if p.empty or "reference_cpo" not in p.columns:
        return {}
    rows = p[p["reference_cpo"].notna()].drop_duplicates("reference_cpo")
    return dict(zip(rows["reference_cpo"], rows["porteur"]))


def _question_axis(objectifs: str, data: BilanData) -> str:
    axes = set()
    for code in objectifs.split(", "):
        axes.add(code if not code.startswith("OG.") else code[3])
    return axes.pop() if len(axes) == 1 else "transversal"


def referentiel(data: BilanData) -> dict:
    frame = data.referentiel
    if frame.empty:
        return {"natures": [], "graphique": None, "absent": "Le référentiel n'a pas pu être calculé pour cette année."}
    labels = {a["code"]: f"Priorité {a['code']} — {a['intitule']}" for a in data.axes}
    labels["transversal"] = "Questions transversales"
    status_labels = data.vocabulaire.libelles("statuts_indicateur")
    frame = frame.assign(axe=frame["objectifs"].map(lambda o: _question_axis(o, data)))
    criteres, titles = data.vocabulaire.libelles("criteres"), _objectif_titles(data)
    natures = []
    # means and results apart: money spent or a partner's activity is not a change for the inhabitants
    for _, titre, of_nature in statuts.par_nature(frame):
        # questions in their order (Q1, Q2… Q10): consecutive questions of one priority share its heading
        order = sorted(of_nature["question"].unique(), key=lambda q: (len(q), q))
        runs: list[tuple[str, list[str]]] = []
        for q in order:
            axe = of_nature.loc[of_nature["question"] == q, "axe"].iloc[0]
            if runs and runs[-1][0] == axe:
                runs[-1][1].append(q)
            else:
                runs.append((axe, [q]))
        groups = []
        for axe, codes in runs:
            part = of_nature[of_nature["question"].isin(codes)]
            questions = []
            for q in codes:
                rows = part[part["question"] == q]
                first = rows.iloc[0]
                questions.append({
                    "code": q, "intitule": first["question_intitule"],
                    "critere": criteres.get(first["critere"], first["critere"]),
                    "objectifs": " ; ".join(titles.get(o, o) for o in str(first["objectifs"]).split(", ")),
                    "indicateurs": [{
                        "code": r.code_indicateur, "libelle": r.libelle,
                        "valeur": valeur(r.valeur, r.unite) if pd.notna(r.valeur) else "—",
                        "annee_donnees": "" if pd.isna(r.annee_donnees) else int(r.annee_donnees),
                        "reference": ("" if pd.isna(r.reference)
                                      else f"{valeur(r.reference, r.unite)} ({int(r.annee_reference)})"),
                        "cible": f"{valeur(r.cible, r.unite)} ({int(r.annee_cible)})",
                        "tendance": {"hausse": "↗", "baisse": "↘", "stable": "→"}.get(r.tendance, ""),
                        "statut": r.statut, "statut_libelle": status_labels.get(r.statut, r.statut),
                        "raison": r.raison, "mesure": r.mesure + (f" [{r.cle}]" if r.cle else ""),
                        "source": {"code": r.mesure, "cle": r.cle if isinstance(r.cle, str) else None,
                                   "qpv": r.perimetre},
                    } for r in rows.itertuples()],
                })
            groups.append({"titre": labels.get(axe, axe), "questions": questions})
        natures.append({"titre": titre, "groupes": groups})
    chart = charts.statuses(frame, "Statut des indicateurs par question évaluative, moyens et résultats à part",
                            f"référentiel d'évaluation du contrat, bilan {data.annee}", data.vocabulaire)
    return {"natures": natures, "graphique": chart, "absent": None}


def programmation(data: BilanData) -> dict:
    missing = _missing(data, "programmation")
    if missing:
        return {"absent": missing}
    financeurs, natures = data.vocabulaire.libelles("financeurs"), data.vocabulaire.libelles("natures_credit")
    by_funder = pd.DataFrame([
        {"financeur": f, "financeur_libelle": financeurs.get(f, f), "nature": natures[n], "montant_accorde": montant,
         "part": data.m(f"prog.part_{n}", cle=f)}
        for n in natures for f, montant in data.keyed(f"prog.montant_{n}").items() if montant > 0],
        columns=["financeur", "financeur_libelle", "nature", "montant_accorde", "part"])
    funders = [{"financeur": r.financeur_libelle, "nature": r.nature, "montant": euros(r.montant_accorde),
                "part": pct(r.part)}
               for r in by_funder.sort_values("montant_accorde", ascending=False).itertuples()]
    by_objective = pd.DataFrame([
        {"code_objectif": o["code"], "intitule": o["intitule"],
         "dossiers": data.m("prog.dossiers_accordes", cle=o["code"]),
         "montant": data.m("prog.montant_accorde", cle=o["code"])}
        for axe in data.axes for o in axe["objectifs"] if data.m("prog.montant_accorde", cle=o["code"]) is not None],
        columns=["code_objectif", "intitule", "dossiers", "montant"])
    objectives = [{"code": r.code_objectif, "intitule": r.intitule, "dossiers": nombre(r.dossiers),
                   "montant": euros(r.montant)} for r in by_objective.itertuples()]
    qpvs = [{"code": q.code_qpv, "nom": q.nom_qpv, "population": nombre(data.m("prog.population", q.code_qpv)),
             "montant": euros(data.m("prog.montant_accorde", q.code_qpv)),
             "par_habitant": euros(data.m("prog.montant_par_habitant", q.code_qpv), 2)}
            for q in data.qpv.itertuples() if data.m("prog.montant_accorde", q.code_qpv) is not None]
    key = {
        "bop147": euros(data.m("prog.montant_bop147")), "levier": ratio(data.m("prog.effet_levier_bop147")),
        "droit_commun": euros(data.m("prog.montant_droit_commun")),
        "part_droit_commun": pct(data.m("prog.part_droit_commun")),
        "cpo_dossiers": pct(data.m("prog.part_cpo_dossiers")), "cpo_montant": pct(data.m("prog.part_cpo_montant")),
        "cpo_bop147": pct(data.m("prog.part_cpo_montant_bop147")),
        "dossiers": nombre(data.m("prog.dossiers_accordes")), "total": euros(data.m("prog.montant_accorde")),
        "cpo_vise": pct(data.seuils["part_cpo_visee"], 0),
    }
    chart_funders = charts.bar(
        by_funder, "montant_accorde", "financeur_libelle", f"Qui finance la programmation {data.annee} ?",
        f"programmation {data.annee}, crédits accordés par financeur",
        "Montant accordé (€)", color="nature", color_title="Crédits")
    chart_objectives = charts.bar(by_objective, "montant", "intitule",
                                  f"Crédits accordés par objectif général en {data.annee}",
                                  f"programmation {data.annee}, crédits accordés par objectif général",
                                  "Montant accordé (€)", sort=None)
    total, population = data.m("bilans.beneficiaires"), data.m("prog.population")
    beneficiaries = {
        "absent": _missing(data, "bilans_actions"),
        "annee": data.annee - 1, "total": nombre(total),
        # participations, not people: set beside the population they would seem to be a share of
        "population": nombre(population),
        "equivalent": pct(100 * total / population, 0) if total is not None and population else None,
        "femmes": pct(data.m("bilans.part_femmes")), "qpv": pct(data.m("bilans.part_residents_qpv")),
        "jeunes": pct(data.m("bilans.part_moins_26_ans")), "rapports": nombre(data.m("bilans.rapports_recus")),
        "taux_rapports": pct(data.m("bilans.taux_rapports")),
    }
    return {"absent": None, "financeurs": funders, "objectifs": objectives, "qpv": qpvs, "cles": key,
            "graphique_financeurs": chart_funders, "graphique_objectifs": chart_objectives,
            "beneficiaires": beneficiaries}


def _moins_realises(frame: pd.DataFrame) -> pd.DataFrame:
    """Commitments furthest from their target first, those without a rate after them."""
    return frame.sort_values("taux_realisation", na_position="last", kind="stable")


def engagements(data: BilanData) -> dict:
    missing = _missing(data, "engagements")
    if missing:
        return {"absent": missing, "manquants": _manquants(data, "engagements")}
    e = data.engagements[data.engagements["perimetre"] == "territoire"]
    alert = data.seuils["alerte_realisation_engagement"]
    shown = plafonner(e, data.rendu.lignes_par_tableau, _moins_realises)
    rows = [{"partenaire": r.partenaire, "engagement": r.engagement, "indicateur": r.indicateur, "cle": r.cle,
             "cible": valeur(r.valeur_cible, r.unite), "realise": _realise(r), "taux": pct(r.taux_realisation, 0),
             "alerte": bool(pd.notna(r.taux_realisation) and r.taux_realisation < alert),
             "partiel": _partiel(r)}
            for r in shown.elements.itertuples()]
    dc = plafonner(sorted(data.keyed("engagements.montant_droit_commun").items()), data.rendu.lignes_par_tableau,
                   lambda kv: -kv[1])
    rates = plafonner(e[e["taux_realisation"].notna()], data.rendu.elements_par_graphique, _moins_realises)
    bars = rates.elements.assign(libelle=lambda f: f["partenaire"] + " — " + f["indicateur"].str.slice(0, 48))
    title = ("Taux de réalisation des engagements" if not rates.autres else
             f"Taux de réalisation des {nombre(len(bars))} engagements les moins réalisés, sur "
             f"{nombre(len(bars) + rates.autres)}")
    chart = charts.bar(bars, "taux_realisation", "libelle", f"{title} (cible = 100 %)",
                       f"engagements des partenaires {data.annee}", "Réalisé / cible (%)",
                       fmt=",.0f", rule=100) if len(bars) else None
    return {"absent": None, "lignes": rows, "graphique": chart, "graphique_autres": rates.ligne,
            "lignes_plafond": shown.resume("engagements", "au taux de réalisation le plus bas (puis ceux sans taux), "
                                           "listés par partenaire"),
            "droit_commun": [{"partenaire": partenaire, "montant": euros(montant)} for partenaire, montant
                             in dc.elements],
            "droit_commun_plafond": dc.resume("partenaires", "au droit commun mobilisé le plus élevé, par ordre "
                                              "alphabétique"),
            "seuil_alerte": pct(alert, 0),
            "total_droit_commun": euros(data.m("engagements.montant_droit_commun")),
            "non_renseignes": nombre(data.m("engagements.non_renseignes")),
            "nombre": nombre(data.m("engagements.nombre")),
            "manquants": _manquants(data, "engagements")}


def _realise(r) -> str:
    return "non renseigné" if r.non_renseigne and pd.isna(r.valeur_realisee) else valeur(r.valeur_realisee, r.unite)


def _partiel(r) -> dict | None:
    """« partiel : 7 QPV sur 8 »: a territory value summed over the QPV that reported, when some did not."""
    if r.agregat != "somme" or not r.partiel:
        return None
    return {"renseignes": nombre(r.qpv_renseignes), "engages": nombre(r.qpv_engages)}


def _moins_couverts(frame: pd.DataFrame) -> pd.DataFrame:
    """Landlord-QPV pairs whose counterparts cover the least of their abatement first."""
    return frame.sort_values("taux_couverture", na_position="last", kind="stable")


def tfpb(data: BilanData) -> dict:
    missing = _missing(data, "tfpb")
    if missing:
        return {"absent": missing}
    t = data.tfpb.merge(data.qpv[["code_qpv", "nom_qpv"]], on="code_qpv", how="left")
    shown = plafonner(t, data.rendu.lignes_par_tableau, _moins_couverts)
    rows = [{"bailleur": r.bailleur, "qpv": r.nom_qpv, "logements": nombre(r.nb_logements),
             "abattement": euros(r.montant_abattement), "valorise": euros(r.montant_valorise),
             "couverture": pct(r.taux_couverture, 0), "alerte": bool(r.alerte_couverture)}
            for r in shown.elements.itertuples()]
    labels, per_axis = data.vocabulaire.libelles("axes_tfpb"), data.keyed("tfpb.valorise_axe")
    axes = pd.DataFrame([{"axe": a, "libelle": labels[a], "montant_valorise": per_axis[a]} for a in labels
                         if a in per_axis], columns=["axe", "libelle", "montant_valorise"])
    expected = data.seuils["couverture_tfpb"]
    pairs = plafonner(t, data.rendu.elements_par_graphique, _moins_couverts)
    bars = pairs.elements.assign(libelle=lambda f: f["bailleur"] + " — " + f["nom_qpv"].fillna(f["code_qpv"]))
    title = ("Couverture de l'abattement par bailleur et QPV" if not pairs.autres else
             f"Couverture de l'abattement : les {nombre(len(bars))} couples bailleur-QPV les moins couverts, sur "
             f"{nombre(len(bars) + pairs.autres)}")
    chart_coverage = charts.bar(bars, "taux_couverture", "libelle", title,
                                f"déclarations TFPB {data.annee} (trait : {pct(expected, 0)})",
                                "Valorisé / abattement (%)", fmt=",.0f", rule=expected)
    chart_axes = charts.bar(axes, "montant_valorise", "libelle", "Contreparties valorisées par axe du cadre national",
                            f"déclarations TFPB {data.annee}", "Montant valorisé (€)")
    return {"absent": None, "lignes": rows, "graphique_couverture": chart_coverage, "graphique_axes": chart_axes,
            "lignes_plafond": shown.resume("couples bailleur-quartier", "à la couverture la plus basse, listés par "
                                           "bailleur"),
            "graphique_autres": pairs.ligne,
            "abattement": euros(data.m("tfpb.abattement")), "valorise": euros(data.m("tfpb.valorise")),
            "couverture": pct(data.m("tfpb.taux_couverture")), "logements": nombre(data.m("tfpb.logements")),
            "alertes": nombre(data.m("tfpb.alertes_couverture")), "seuil_couverture": pct(expected, 0),
            "alertes_phrase": (compte(data.m("tfpb.alertes_couverture") or 0, "couple bailleur-quartier",
                                      "couples bailleur-quartier").capitalize() + f" sous {pct(expected, 0)}"),
            "manquants": _manquants(data, "tfpb")}


def indicateurs(data: BilanData, dep_label: str, epci_label: str) -> dict:
    missing = _missing(data, "indicateurs")
    if missing:
        return {"absent": missing}
    i = data.indicateurs[data.indicateurs["perimetre"] == "territoire"].sort_values("code_indicateur")
    rows = [{"libelle": r.libelle_indicateur or r.code_indicateur, "millesime": r.millesime,
             "valeur": SECRET if r.secret else valeur(r.valeur, r.unite), "evolution": _change(r),
             "dep": valeur(r.valeur_qpv_departement, r.unite), "ecart_dep": _gap(r.ecart_qpv_departement, r.unite),
             "epci": valeur(r.valeur_epci, r.unite), "ecart_epci": _gap(r.ecart_epci, r.unite),
             "calcule": bool(r.calcule), "code": r.code_indicateur} for r in i.itertuples()]
    long = []
    for r in i[i["unite"] == "pourcentage"].itertuples():
        levels = (("QP du contrat", r.valeur), (dep_label, r.valeur_qpv_departement), (epci_label, r.valeur_epci))
        for level, v in levels:
            if pd.notna(v):
                long.append({"libelle": r.libelle_indicateur or r.code_indicateur, "niveau": level, "valeur": v})
    chart = charts.comparison(pd.DataFrame(long), "Les QPV du contrat face aux QP du département et à l'EPCI",
                              "indicateurs des observatoires, dernier millésime") if long else None
    return {"absent": None, "lignes": rows, "graphique": chart, "dep": dep_label, "epci": epci_label}


def _gap(v, unite):
    if pd.isna(v):
        return "—"
    return points(v) if unite == "pourcentage" else signe(v, 1)


def _change(r) -> str:
    """An indicator's change since its previous millésime (a row of publication.indicateurs), in its unit."""
    if pd.isna(r.evolution):
        return ""
    # a change is signed whatever its unit: points, percent or the indicator's own
    text = (points(r.evolution) if r.unite_evolution == "points"
            else (f"{signe(r.evolution, 1)}{NBSP}%" if r.unite_evolution == "%" else signe(r.evolution, 1)))
    return text + ("" if pd.isna(r.millesime_precedent) else f" depuis {int(r.millesime_precedent)}")


def _ranks(indicateurs: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """(indicator, QPV) → (rank among the contract's QPV with a value, 1 = the highest; how many have one)."""
    shown = indicateurs[(indicateurs["perimetre"] != "territoire") & indicateurs["valeur"].notna()
                        & ~indicateurs["secret"].fillna(False).astype(bool)]
    out = {}
    for code, group in shown.groupby("code_indicateur"):
        ranks = group["valeur"].rank(method="min", ascending=False).astype(int)
        out.update({(code, q): (rank, len(group)) for q, rank in zip(group["perimetre"], ranks)})
    return out


def _rate(value) -> str:
    """A published cohort rate: withheld only by secrecy (publication.cohortes_jalons)."""
    return SECRET if pd.isna(value) else pct(value, 0)


def cohortes(data: BilanData) -> dict:
    missing = _missing(data, "cohortes")
    if missing:
        return {"absent": missing}
    c = data.cohortes
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
    operateurs, titles = _operateurs(data), _objectif_titles(data)
    for (cpo, cohort), rows in overall.groupby(["reference_cpo", "cohorte"], sort=True):
        tables.append({"cpo": cpo, "operateur": operateurs.get(cpo, cpo), "cohorte": int(cohort),
                       "objectif": titles.get(rows["code_objectif"].iloc[0] or "", rows["code_objectif"].iloc[0] or ""),
                       "lignes": [{"jalon": jalons[r.jalon], "observes": r.observes,
                                   "attendus": cohort_display.attendus(r.attendus, r.observes, r.jalon, exit_code),
                                   **{s: getattr(r, s) for s in situations},
                                   "taux_positif": _rate(r.taux_sortie_positive),
                                   "taux_durable": _rate(r.taux_emploi_durable),
                                   "taux_perdus": _rate(r.taux_perdus_de_vue)} for r in rows.itertuples()]})
    series = [{"serie": f"{operateurs.get(r.reference_cpo, r.reference_cpo)} (cohorte {int(r.cohorte)})",
               "jalon": jalons[r.jalon],
               "taux": r.taux_sortie_positive}
              for r in overall.itertuples() if r.jalon in after_entry and pd.notna(r.taux_sortie_positive)]
    chart = charts.cohort_rates(pd.DataFrame(series), "Sorties positives à chaque jalon, par CPO et cohorte",
                                "suivi des bénéficiaires des CPO ; taux non publiés sous "
                                f"{data.secret['denominateur_minimal']} personnes",
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
            "seuils": data.secret, "par_sexe": cohort_display.by_sex(twelve, data.vocabulaire.libelles("sexes"),
                                                                     operateurs, SECRET)}


def qualite(data: BilanData) -> dict:
    q, cap = data.qualite, data.rendu
    familles = data.vocabulaire.libelles("familles")
    # the files a steward must look at first: refused, then those with the most rows in quarantine
    shown = plafonner(q, cap.lignes_par_tableau, lambda f: f.assign(
        _refuse=f["statut"] == "refuse").sort_values(["_refuse", "lignes_quarantaine"], ascending=False,
                                                     kind="stable"))
    files = [{"famille": r.famille, "famille_libelle": familles.get(r.famille, r.famille), "fichier": r.fichier,
              "statut": "refusé" if r.statut == "refuse" else "accepté",
              "lues": nombre(r.lignes_lues), "retenues": nombre(r.lignes_retenues),
              "quarantaine": nombre(r.lignes_quarantaine), "message": r.message or "",
              "colonnes": ", ".join(x for x in [r.colonnes_inconnues, r.colonnes_supprimees] if x)}
             for r in shown.elements.itertuples()] if len(q) else []
    problems = plafonner(data.erreurs_par_regle, cap.lignes_par_tableau,
                         lambda f: f.sort_values("n", ascending=False, kind="stable"))
    rules = [{"fichier": r.fichier, "regle": r.regle, "regle_libelle": data.regles.get(r.regle, r.regle),
              "gravite": r.gravite, "n": nombre(r.n)}
             for r in problems.elements.itertuples()] if len(data.erreurs_par_regle) else []
    totals = {k: nombre(q[c].sum()) if len(q) else "0" for k, c in
              (("lues", "lignes_lues"), ("retenues", "lignes_retenues"), ("quarantaine", "lignes_quarantaine"))}
    warnings = [{"actif": r.actif, "controle": r.controle, "description": r.description, "message": r.message,
                 "n": nombre(r.problemes),
                 "detail": _names(data, texte_chiffres(plafonner_texte(r.detail or "", cap.elements_par_liste,
                                                                       total=r.problemes)))}
                for r in data.controles.itertuples()] if len(data.controles) else []
    return {"fichiers": files, "regles": rules, "manquants": _manquants(data), "totaux": totals,
            "avertissements": warnings,
            "fichiers_plafond": shown.resume("fichiers", "refusés ou aux lignes en quarantaine les plus nombreuses, "
                                             "par famille"),
            "regles_plafond": problems.resume("couples fichier-règle", "aux problèmes les plus nombreux, par fichier")}


def _names(data: BilanData, text: str) -> str:
    """A check's detail names QPV by code: the reader gets their names."""
    for code, nom in zip(data.qpv["code_qpv"], data.qpv["nom_qpv"]) if len(data.qpv) else []:
        text = text.replace(code, nom)
    return text


def sources(data: BilanData) -> dict:
    s = data.sources
    # the year's files first: earlier years' are those of the bilans already published
    shown = plafonner(s, data.rendu.lignes_par_tableau,
                      lambda f: f.sort_values("annee", ascending=False, kind="stable"))
    return {"fichiers": [{"famille": r.famille, "annee": r.annee, "fichier": r.nom_fichier, "version": r.version,
                          "sha256": r.sha256, "origine": r.origine} for r in shown.elements.itertuples()]
            if len(s) else [],
            "fichiers_plafond": shown.resume("fichiers", "les plus récents, par année"),
            "notes": method_notes(data), "secret": data.secret}


def qpv_pages(data: BilanData, features: list[dict] | None, commune_names: dict[str, str],
              communes: list[dict] | None = None, dep_label: str = "QP du département") -> list[dict]:
    pages = []
    # what each granted dossier is, to name the actions whose share of money the measures give
    dossiers = (data.programmation.drop_duplicates("numero_dossier").set_index("numero_dossier")
                if len(data.programmation) else pd.DataFrame())
    programmed = data.m("prog.montant_accorde") is not None
    titles = _objectif_titles(data)
    cibles = dossiers["qpv_cibles"].to_dict() if len(dossiers) else {}
    ranks = _ranks(data.indicateurs) if len(data.indicateurs) else {}
    whole = data.indicateurs[data.indicateurs["perimetre"] == "territoire"] if len(data.indicateurs) else pd.DataFrame()
    ensemble = {r.code_indicateur: SECRET if r.secret else valeur(r.valeur, r.unite) for r in whole.itertuples()}
    for q in data.qpv.itertuples():
        page = {"code": q.code_qpv, "nom": q.nom_qpv, "population": nombre(data.m("prog.population", q.code_qpv)),
                "dep_label": dep_label,
                "communes": ", ".join(commune_names.get(c, c) for c in q.communes), "carte": None,
                "communes_mot": pluriel(len(q.communes), "commune")}
        if features:
            page["carte"] = charts.qpv_map(features, f"{q.nom_qpv} dans le territoire", "contours des QPV 2024 (ANCT)",
                                           highlight=q.code_qpv, communes=communes)
        ind = data.indicateurs[data.indicateurs["perimetre"] == q.code_qpv] if len(data.indicateurs) else pd.DataFrame()
        # each quartier beside the contract's QPV as a whole, the others (its rank), the department's QP, and its
        # previous millésime
        page["indicateurs"] = [{"libelle": r.libelle_indicateur or r.code_indicateur, "millesime": r.millesime,
                                "valeur": SECRET if r.secret else valeur(r.valeur, r.unite),
                                "evolution": _change(r),
                                "ensemble": ensemble.get(r.code_indicateur, "—"),
                                "rang": (f"{rank[0]}{'er' if rank[0] == 1 else 'e'} sur {rank[1]}"
                                         if (rank := ranks.get((r.code_indicateur, q.code_qpv))) else "—"),
                                "dep": valeur(r.valeur_qpv_departement, r.unite),
                                "ecart_dep": _gap(r.ecart_qpv_departement, r.unite)}
                               for r in ind.sort_values("code_indicateur").itertuples()] if len(ind) else []
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
            page["actions_tous"] = {"nombre": nombre(data.m("prog.dossiers_tous_qpv") or 0),
                                    "montant": euros(data.m("prog.montant_tous_qpv", q.code_qpv) or 0)}
            page["montant"] = euros(data.m("prog.montant_accorde", q.code_qpv) or 0)
            before = data.m("prog.montant_accorde", q.code_qpv, before=True)
            page["avant"] = None if before is None else {
                "annee": data.annee - 1, "montant": euros(before),
                "evolution": contenu.evolution(data.m("prog.montant_accorde", q.code_qpv) or 0, before)}
            page["par_habitant"] = euros(data.m("prog.montant_par_habitant", q.code_qpv) or 0, 2)
        else:
            page["actions"], page["montant"], page["par_habitant"], page["actions_plafond"] = [], "—", "—", None
            page["actions_tous"], page["avant"] = None, None
        tf = plafonner(data.tfpb[data.tfpb["code_qpv"] == q.code_qpv] if len(data.tfpb) else pd.DataFrame(),
                       data.rendu.lignes_par_tableau, _moins_couverts)
        page["tfpb"] = [{"bailleur": r.bailleur, "logements": nombre(r.nb_logements),
                         "abattement": euros(r.montant_abattement), "valorise": euros(r.montant_valorise),
                         "couverture": pct(r.taux_couverture, 0), "alerte": bool(r.alerte_couverture)}
                        for r in tf.elements.itertuples()] if len(tf.elements) else []
        page["tfpb_plafond"] = tf.resume("bailleurs", "à la couverture la plus basse, par ordre alphabétique")
        eng = plafonner(data.engagements[data.engagements["perimetre"] == q.code_qpv] if len(data.engagements)
                        else pd.DataFrame(), data.rendu.lignes_par_tableau, _moins_realises)
        page["engagements"] = [{"partenaire": r.partenaire, "indicateur": r.indicateur, "cle": r.cle,
                                "cible": valeur(r.valeur_cible, r.unite), "realise": valeur(r.valeur_realisee, r.unite)}
                               for r in eng.elements.itertuples()] if len(eng.elements) else []
        page["engagements_plafond"] = eng.resume("engagements", "au taux de réalisation le plus bas (puis ceux sans "
                                                 "taux), listés par partenaire")
        pages.append(page)
    return pages
