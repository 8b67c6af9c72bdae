"""The written synthesis that opens the bilan (and each commune bilan, for its quartiers): the year in five
sentences, what moved per priority, the alerts with their figure and their page, and the points to watch for the
next call for projects. Templated French from the published tables, by rules; thresholds from config/settings.yaml
(`seuils`). Nothing here computes a figure the bilan does not show elsewhere: it reads measures and published rows."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from core.config.vocabulaire import Vocabulaire
from reports.data import BilanData
from reports.format import NBSP, accorde, compte, euros, liste, nombre, pct, pluriel, ratio, signe, valeur
from reports.plafonds import plafonner
from reports.rejets import cause_alerte_tfpb
from reports.sections.commun import operateurs as operateurs_cpo

# where each alert sends the reader (a section id of bilan.html.j2) and how the link reads
# the referential's status of a change that cannot be measured yet (config/vocabulaire.yaml)
PAS_ENCORE = "pas encore de donnée nouvelle"

RENVOIS = {"referentiel": "le référentiel", "programmation": "la programmation", "droit-commun": "le droit commun",
           "tfpb": "la TFPB", "qualite": "la qualité des données", "cohortes": "les cohortes"}


def _variation(now: float | None, before: float | None, unite: str | None, annee: int, seuil: float,
               base_minimale: float = 20) -> str:
    """How a figure moved since last year, in words: `en hausse de 13,4 % sur 2024`, `stable`, or nothing; a count
    under `base_minimale` last year moves by units: `en hausse de 2 sur 2024 (1 alors)`."""
    if now is None or before is None:
        return ""
    if unite == "nombre" and abs(before) < base_minimale:
        delta = now - before
        if abs(delta) < 0.5:
            return f"stable par rapport à {annee - 1}"
        return (f"{'en hausse' if delta > 0 else 'en baisse'} de {nombre(abs(delta))} sur {annee - 1} "
                f"({nombre(before)} alors)")
    if unite == "pourcentage":
        delta = now - before
        if abs(delta) < seuil / 5:  # points: 1 pt for the default 5 % threshold
            return f"stable par rapport à {annee - 1}"
        return f"{'en hausse' if delta > 0 else 'en baisse'} de {nombre(abs(delta), 1)}{NBSP}pt sur {annee - 1}"
    if before == 0:
        return ""
    change = 100 * (now / before - 1)
    if abs(change) < seuil:
        return f"stable par rapport à {annee - 1} ({signe(change)}{NBSP}%)"
    return f"{'en hausse' if change > 0 else 'en baisse'} de {pct(abs(change))} sur {annee - 1}"


def _statuts(frame: pd.DataFrame, vocabulaire: Vocabulaire) -> str:
    """Each status of the vocabulary (config/vocabulaire.yaml, in its order) with its count, in the words that
    agree with it (`apres_un_nombre`): « 1 atteint, 6 en retard et 15 suspendus à des lignes rejetées »."""
    counts = frame["statut"].value_counts().to_dict() if len(frame) else {}
    parts = [f"{nombre(n)} {pluriel(n, *(t.apres_un_nombre or (t.libelle, t.libelle)))}"
             for t in vocabulaire.termes("statuts_indicateur") if (n := counts.get(t.code))]
    return liste(parts) or "aucun indicateur calculé"


def _axe_of(objectifs: str) -> str:
    """A question's priority: its objectives' axis (OG.1.2 → 1), or `transversal` when they span several."""
    axes = {code[3] if code.startswith("OG.") else code for code in str(objectifs).split(", ")}
    return axes.pop() if len(axes) == 1 else "transversal"


def _objectif_titles(data: BilanData) -> dict[str, str]:
    titles = {o["code"]: o["intitule"] for a in data.axes for o in a["objectifs"]}
    titles.update({a["code"]: f"priorité {a['code']} — {a['intitule']}" for a in data.axes})
    return titles


class _Scope:
    """The figures of the whole contract, or of the quartiers of one commune (codes of its QPV)."""

    def __init__(self, data: BilanData, qpv: list[str] | None):
        self.data, self.qpv = data, qpv
        programmation = data.table("programmation")
        dossiers = programmation.drop_duplicates("numero_dossier") if len(programmation) else pd.DataFrame()
        self.objectif_of = dict(zip(dossiers["numero_dossier"], dossiers["code_objectif"])) if len(dossiers) else {}

    def montant(self, objectifs: list[str] | None = None, before: bool = False) -> float | None:
        """Credits granted (to the objectives, or to an axis given as its number), for the scope."""
        d = self.data
        if self.qpv is None:
            if objectifs is None:
                return d.m("prog.montant_accorde", before=before)
            values = [d.m("prog.montant_accorde", cle=(f"axe {o}" if not o.startswith("OG.") else o), before=before)
                      for o in objectifs]
            return None if all(v is None for v in values) else sum(v or 0 for v in values)
        if before:
            return None  # the previous year's shares per dossier are not published
        if objectifs is None:  # the published credits aimed at each quartier (euros add up across quartiers)
            values = [d.m("prog.montant_accorde", q) for q in self.qpv]
            return None if all(v is None for v in values) else sum(v or 0 for v in values)
        # per objective, the quartier's share of each dossier aimed at it (actions for every quartier aside)
        total = 0.0
        for q in self.qpv:
            for dossier, amount in d.keyed("prog.montant_dossier", q).items():
                code = self.objectif_of.get(dossier) or ""
                if code in objectifs or (code[3:4] in objectifs and code.startswith("OG.")):
                    total += amount
        return total

    def tous(self) -> float:
        """The quartiers' population share of the actions led for every quartier of the contract."""
        return sum(self.data.m("prog.montant_tous_qpv", q) or 0 for q in self.qpv or [])

    def dossiers(self, objectifs: list[str]) -> int | None:
        d = self.data
        if self.qpv is None:
            codes = [o["code"] for a in d.axes for o in a["objectifs"]
                     if o["code"] in objectifs or a["code"] in objectifs]
            values = [d.m("prog.dossiers_accordes", cle=c) for c in codes]
            return None if all(v is None for v in values) else int(sum(v or 0 for v in values))
        aimed = {n for q in self.qpv for n in d.keyed("prog.montant_dossier", q)}
        return sum(1 for n in aimed if (self.objectif_of.get(n) or "") in objectifs
                   or (self.objectif_of.get(n) or "")[3:4] in objectifs)

    def cpo(self, reference: str) -> tuple[float, int] | None:
        """Credits granted this year to one CPO's dossiers (for the scope), and how many dossiers."""
        p = self.data.table("programmation")
        if p.empty or reference not in set(p["reference_cpo"].dropna()):
            return None
        rows = p[(p["reference_cpo"] == reference) & (p["statut"] == "accorde")]
        if self.qpv is not None:
            rows = rows[rows["code_qpv"].isin(self.qpv)]
        return float(rows["montant_accorde"].sum()), int(rows["numero_dossier"].nunique())

    def tfpb(self) -> pd.DataFrame:
        t = self.data.table("tfpb")
        if t.empty or self.qpv is None:
            return t
        return t[t["code_qpv"].isin(self.qpv)]


def _annee(data: BilanData, scope: _Scope, commune: str | None) -> list[str]:
    d, a, seuil = data, data.annee, data.seuils.get("evolution_notable", 5)
    out = []
    total = scope.montant()
    if total is None:
        out.append(f"Aucune programmation n'a été reçue pour {a} : les crédits de l'année ne peuvent être présentés.")
    elif commune is None:
        n = d.m("prog.dossiers_accordes") or 0
        move = _variation(total, scope.montant(before=True), "euros", a, seuil)
        out.append(f"En {a}, {compte(n, 'dossier accordé', 'dossiers accordés')} {accorde(n, 'a', 'ont')} "
                   f"reçu {euros(total)} de crédits{', ' + move if move else ''}.")
        bop, levier = d.m("prog.montant_bop147"), d.m("prog.effet_levier_bop147")
        if bop is not None:
            out.append(f"Les crédits spécifiques de l'État (BOP 147) en apportent {euros(bop)}"
                       + (f" ; chaque euro du BOP 147 entraîne {ratio(levier)} € d'autres crédits."
                          if levier is not None else "."))
    else:
        qpv = scope.qpv or []
        mine = [q for q in d.territoire.qpv if q.code in qpv]
        population = sum(q.population for q in mine)
        n = len({n for q in qpv for n in d.keyed("prog.montant_dossier", q)})
        per_inhabitant = (d.m("prog.montant_par_habitant", qpv[0]) if len(qpv) == 1
                          else (total / population if population else None))
        out.append(f"En {a}, {compte(n, 'action accordée', 'actions accordées', feminin=True)} "
                   f"{accorde(n, 'vise', 'visent')} "
                   f"{accorde(len(mine), 'le quartier prioritaire', 'les quartiers prioritaires')} "
                   f"de la commune ({liste([q.nom for q in mine])}) pour {euros(total)}, soit "
                   f"{euros(per_inhabitant, 2)} par habitant.")
        # the quartiers' credits already hold their share of the actions led for every quartier: said as a part
        # of them, never added to them
        out.append(f"Ce montant comprend {euros(scope.tous())} au titre des actions menées pour tous les quartiers "
                   "du contrat, réparties au prorata de la population.")
    cpo, vise = d.m("prog.part_cpo_dossiers"), d.seuils["part_cpo_visee"]
    if cpo is not None and commune is None:
        out.append(f"Les conventions pluriannuelles d'objectifs (CPO) portent {pct(cpo)} des dossiers et "
                   f"{pct(d.m('prog.part_cpo_montant'))} des crédits, "
                   f"{'sous' if cpo < vise else 'au-dessus de'} l'objectif national de {pct(vise, 0)}.")
    ref = d.referentiel
    if len(ref):
        where = "" if commune is None else " à l'échelle du contrat"
        sur = "Sur l'indicateur" if len(ref) == 1 else f"Sur les {compte(len(ref), 'indicateur')}"
        out.append(f"{sur} du référentiel d'évaluation{where} : {_statuts(ref, data.vocabulaire)}.")
    t = scope.tfpb()
    if len(t) and (commune is None or any(d.m("tfpb.taux_couverture", q) is not None for q in scope.qpv or [])):
        sous = len(t[t["alerte_couverture"].fillna(False).astype(bool)])
        realisation = d.m("engagements.taux_realisation_moyen")
        names = dict(zip(d.qpv["code_qpv"], d.qpv["nom_qpv"]))
        couverture = (pct(d.m("tfpb.taux_couverture")) if commune is None else
                      liste([f"{pct(d.m('tfpb.taux_couverture', q))} ({names.get(q, q)})"
                             for q in scope.qpv or [] if d.m("tfpb.taux_couverture", q) is not None]))
        out.append(f"Les bailleurs sociaux ont valorisé leur abattement de TFPB à hauteur de {couverture} "
                   f"; {compte(sous, 'couple bailleur-quartier', 'couples bailleur-quartier')} "
                   f"{'n' + chr(39) + 'est' if sous == 0 else accorde(sous, 'reste', 'restent')} sous "
                   f"{pct(d.seuils['couverture_tfpb'], 0)}"
                   + (f" ; les partenaires ont réalisé en moyenne {pct(realisation)} de leurs engagements."
                      if realisation is not None and commune is None else "."))
    return out[:5]


def _axes(data: BilanData, scope: _Scope) -> list[dict]:
    ref = data.referentiel
    ref = ref.assign(axe=ref["objectifs"].map(_axe_of)) if len(ref) else ref
    seuil = data.seuils.get("evolution_notable", 5)
    out = []
    for axe in data.axes:
        phrases = []
        now = scope.montant([axe["code"]])
        if now is not None:
            n = scope.dossiers([axe["code"]]) or 0
            move = _variation(now, scope.montant([axe["code"]], before=True), "euros", data.annee, seuil)
            aimed = "" if scope.qpv is None else " à des actions qui visent la commune en propre"
            phrases.append(f"{euros(now)} accordés{aimed} ({compte(n, 'dossier')}){', ' + move if move else ''}.")
        rows = ref[ref["axe"] == axe["code"]] if len(ref) else ref
        if len(rows) and scope.qpv is not None:
            phrases.append(f"Indicateurs du référentiel, à l'échelle du contrat : {_statuts(rows, data.vocabulaire)}.")
        elif len(rows):
            phrases.append(f"Indicateurs du référentiel : {_statuts(rows, data.vocabulaire)}.")
            moved: list[str] = []
            older: list[str] = []
            start = data.territoire.contrat.annee_debut
            for r in rows.itertuples():
                # credits already have their sentence above; a change the referential calls unmeasurable is not
                # a movement
                if (pd.isna(r.valeur) or pd.isna(r.valeur_precedente) or r.mesure == "prog.montant_accorde"
                        or r.statut == PAS_ENCORE):
                    continue
                move = _variation(float(r.valeur), float(r.valeur_precedente), r.unite, data.annee, seuil,
                                  data.seuils.get("base_minimale_pourcentage", 20))
                if move and not move.startswith("stable"):
                    year = r.annee_donnees_precedente
                    since = "" if pd.isna(year) else f" (depuis {int(year)})"
                    text = f"{r.libelle} : {valeur(r.valeur, r.unite)}, {move.split(' sur ')[0]}{since}"
                    # a millésime older than the contract is a landmark, not what moved during it
                    (older if not pd.isna(year) and int(year) < start else moved).append(text)
            if moved:
                phrases.append("Ce qui a bougé : " + " ; ".join(moved) + ".")
            if older:
                phrases.append(f"Repères antérieurs au contrat (millésimes d'avant {start}) : " + " ; ".join(older)
                               + ".")
        if phrases:
            out.append({"titre": f"Priorité {axe['code']} — {axe['intitule']}", "phrases": phrases})
    return out


def _alerte(texte: str, ancre: str | None, details: list[str] | None = None) -> dict:
    """An alert with its figures, and where it is detailed: a section of this document (a link, and its page in the
    PDF), or for a commune bilan what only the territory's bilan shows."""
    renvoi = RENVOIS.get(ancre, "la page du quartier") if ancre else "le bilan du territoire"
    return {"texte": texte, "ancre": ancre, "renvoi": renvoi, "details": details or []}


def _details(data: BilanData, items, ecrire: Callable, priorite: Callable | None = None) -> list[str]:
    """An alert's details, one per item (a row of a frame, or an item of a list): past the cap, the first ones by
    `priorite` (reports/plafonds.py) and « … et N autres »."""
    kept = plafonner(items, data.rendu.elements_par_liste, priorite)
    rows = kept.elements.itertuples() if isinstance(kept.elements, pd.DataFrame) else kept.elements
    return [ecrire(r) for r in rows] + ([kept.ligne] if kept.autres else [])


def _alertes(data: BilanData, scope: _Scope, commune: str | None) -> list[dict]:
    d, out = data, []
    qpv_names = dict(zip(d.qpv["code_qpv"], d.qpv["nom_qpv"])) if len(d.qpv) else {}
    territory = commune is None
    late = d.referentiel[d.referentiel["statut"] == "en retard"] if len(d.referentiel) else pd.DataFrame()
    if len(late):
        out.append(_alerte(
            f"{compte(len(late), 'indicateur')} du référentiel {accorde(len(late), 'est', 'sont')} en retard sur "
            f"{accorde(len(late), 'sa', 'leur')} trajectoire.", "referentiel" if territory else None,
            _details(d, late, lambda r: f"{r.libelle} : {valeur(r.valeur, r.unite)} pour une cible de "
                                        f"{valeur(r.cible, r.unite)} en {int(r.annee_cible)}")))
    familles = d.vocabulaire.libelles("familles")
    manquants = [m.split(" — ", 1) for m in d.fichiers_manquants]
    # (rank, partner, what): the files not received first, then the partners with the most blank commitments
    silent = [((0, 0), who, "fichier d'engagements non reçu") for f, who in manquants if f == "engagements"]
    engagements = d.table("engagements")
    e = engagements[engagements["perimetre"] == "territoire"] if len(engagements) else pd.DataFrame()
    blank = e[e["non_renseigne"].fillna(False).astype(bool) & e["valeur_realisee"].isna()] if len(e) else e
    silent += [((1, -n), p, compte(n, "engagement sans valeur réalisée", "engagements sans valeur réalisée"))
               for p, n in blank.groupby("partenaire", sort=True).size().items()] if len(blank) else []
    if silent and territory:
        n = len({who for _, who, _ in silent})
        out.append(_alerte(f"{compte(n, 'partenaire')} {accorde(n, 'est resté', 'sont restés')} silencieux "
                           f"sur tout ou partie de {accorde(n, 'son', 'leurs')} engagements.", "droit-commun",
                           _details(d, silent, lambda s: f"{s[1]} : {s[2]}", lambda s: s[0])))
    t = scope.tfpb()
    if len(t):
        under = t[t["alerte_couverture"].fillna(False).astype(bool)]
        if len(under):
            seuil = pct(d.seuils["couverture_tfpb"], 0)
            # the same caveat as the TFPB page: an alert the counterparts of rejected rows would lift is said so
            caused = sum(1 for r in under.itertuples() if cause_alerte_tfpb(
                d, r.bailleur, r.code_qpv, r.montant_abattement, r.montant_valorise).startswith("alerte due"))
            out.append(_alerte(
                f"{compte(len(under), 'couple bailleur-quartier', 'couples bailleur-quartier')} "
                f"{accorde(len(under), 'couvre', 'couvrent')} moins de {seuil} de l'abattement de TFPB par des "
                "actions valorisées"
                + (f" (dont {nombre(caused)} {accorde(caused, 'dû', 'dus')} à des lignes rejetées)." if caused
                   else "."),
                "tfpb" if territory else f"qpv-{under['code_qpv'].iloc[0]}",
                _details(d, under, lambda r: f"{r.bailleur} — {qpv_names.get(r.code_qpv, r.code_qpv)} : "
                                             f"{pct(r.taux_couverture, 0)} ({euros(r.montant_valorise)} pour "
                                             f"{euros(r.montant_abattement)})",
                         # the least covered first
                         lambda f: f.sort_values("taux_couverture", kind="stable"))))
    if manquants:
        out.append(_alerte(
            f"{compte(len(manquants), 'fichier attendu', 'fichiers attendus')} "
            + accorde(len(manquants), "n'a pas été reçu.", "n'ont pas été reçus."),
            "qualite" if territory else None,
            _details(d, manquants, lambda m: f"{familles.get(m[0], m[0])[:1].upper()}{familles.get(m[0], m[0])[1:]} "
                                             f"— {m[1]}")))
    cpo, vise = d.m("prog.part_cpo_dossiers"), d.seuils["part_cpo_visee"]
    if territory and cpo is not None and cpo < vise:
        out.append(_alerte(f"Les CPO ne portent que {pct(cpo)} des dossiers ({pct(d.m('prog.part_cpo_montant'))} "
                           f"des crédits), pour un objectif national d'au moins {pct(vise, 0)}.", "programmation"))
    return out


def _vigilance(data: BilanData, scope: _Scope) -> list[dict]:
    ref = data.referentiel
    if ref.empty:
        return []
    titles = _objectif_titles(data)
    axes = {a["code"] for a in data.axes}
    operateurs = operateurs_cpo(data)
    out = []
    for r in ref[ref["statut"] == "en retard"].itertuples():
        objectifs = [r.cle] if isinstance(r.cle, str) and r.cle.startswith("OG.") else str(r.objectifs).split(", ")
        cpo = scope.cpo(r.cle) if isinstance(r.cle, str) else None
        funded: float | None
        n: int | None
        if cpo is not None:  # an indicator of one CPO: what was granted to that CPO
            funded, n = cpo
            what = f" à la CPO de {operateurs.get(r.cle, r.cle)}"
        else:
            funded, n, what = scope.montant(objectifs), scope.dossiers(objectifs), ""
        out.append({
            "indicateur": r.libelle,
            "ecart": (f"{valeur(r.valeur, r.unite)} pour une cible de {valeur(r.cible, r.unite)} "
                      f"en {int(r.annee_cible)}"),
            "objectif": ("toutes les priorités du contrat" if set(objectifs) == axes
                         else liste([f"« {titles.get(o, o)} »" for o in objectifs])),
            "finance": ("aucun crédit programmé" if not funded else
                        f"{euros(funded)} accordés en {data.annee}{what} ({compte(n or 0, 'dossier')})"),
        })
    return out


def synthese_ecrite(data: BilanData, qpv: list[str] | None = None, commune: str | None = None) -> dict:
    """The synthesis of the whole contract, or (qpv, commune) of one commune's quartiers."""
    scope = _Scope(data, qpv)
    alertes = _alertes(data, scope, commune)
    return {"annee": _annee(data, scope, commune), "axes": _axes(data, scope), "alertes": alertes,
            "titre_alertes": compte(len(alertes), "alerte", feminin=True).capitalize(),
            "vigilance": _vigilance(data, scope), "commune": commune}
