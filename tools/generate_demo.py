"""Deterministic demo inbox for the CC Cœur d'Ostrevent, years 2024 and 2025.

    .venv/bin/python tools/generate_demo.py [--racine data/demo]

Figures come from seed 001 (QPV populations, section III.2; the indicator table of section II.1, reproduced
exactly at the levels it prints), the territory's YAML (QPV, partners, landlords) and field facts (TFPB of
130-250 € per dwelling, valorisation mostly 100-135 %). Everything else is drawn from one seeded generator, so
two runs write byte-identical files. A few rows break a contract rule on purpose, as real files do; each is
listed in `erreurs_attendues.csv` with the rule it breaks.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXED_TIME = dt.datetime(2026, 1, 15, 9, 0, 0)
YEARS = (2024, 2025)

PORTEURS = [
    ("CS le Phare", "Aniche"), ("CS Jean Moulin", "Écaillon"), ("EVS les Galibots", "Masny"),
    ("CS Dolto", "Pecquencourt"), ("CS Adolphe Largiller", "Somain"), ("Maison de la Jeunesse", "Montigny-en-Ostrevent"),
    ("Mission Locale du Douaisis", None), ("CCAS de Hornaing", "Hornaing"), ("Commune de Somain", "Somain"),
    ("Commune d'Aniche", "Aniche"), ("Cœur d'Ostrevent Insertion", None), ("Maison des jeunes et de l'insertion", "Barrois"),
    ("Association Sport Santé Ostrevent", None), ("Compagnie Théâtre du Bassin", None), ("Les Jardins de Sessevalle", "Somain"),
    ("AFEJI Médiation", None), ("Épicerie solidaire de Montigny", "Montigny-en-Ostrevent"), ("France Victimes 59", None),
    ("Programme de Réussite Éducative CCCO", None), ("Ludothèque Alapage", "Aniche"),
]
ACTIONS = {
    "OG.1.1": ["Parcours vers l'emploi des jeunes", "Immersions en entreprise", "Garde d'enfants pour l'emploi",
               "Mobilité vers l'emploi", "Détection des porteurs d'idées"],
    "OG.1.2": ["Remobilisation et savoir-être", "Ateliers soft skills", "Rencontres avec les professionnels"],
    "OG.2.1": ["Végétalisation des cités", "Gestion urbaine de proximité", "Accompagnement social ERBM"],
    "OG.2.2": ["Ressourcerie de quartier", "Jardins partagés", "Initiatives ESS"],
    "OG.3.1": ["Prévention santé par les pairs", "Sport santé", "Accès aux soins", "Compétences psychosociales"],
    "OG.3.2": ["Inclusion numérique", "Parents et écrans", "Lutte contre l'illectronisme"],
    "OG.3.3": ["Accompagnement à la scolarité", "Culture hors les murs", "Lutte contre l'illettrisme",
               "Réussite éducative"],
    "OG.3.4": ["Coup de pouce citoyen", "Éducation aux médias", "Collectifs d'habitants"],
    "OG.4.1": ["Médiation par les pairs", "Place des femmes dans l'espace public", "Ouverture des quartiers"],
    "OG.4.2": ["Soutien à la parentalité", "Police et habitants", "Accompagnement des jeunes en rupture"],
    "OG.4.3": ["Accès au droit des victimes", "Sensibilisation aux violences intrafamiliales"],
}
# Dossiers per objective and year: the employment and education priorities weigh most, as in the seed.
WEIGHTS = {"OG.1.1": 14, "OG.1.2": 9, "OG.2.1": 8, "OG.2.2": 6, "OG.3.1": 11, "OG.3.2": 7, "OG.3.3": 14,
           "OG.3.4": 8, "OG.4.1": 8, "OG.4.2": 8, "OG.4.3": 5}
COHORT_CPO = {  # CPO that follow their beneficiaries: porteur, objective, entrants per year
    "CPO-CCCO-2024-01": ("Mission Locale du Douaisis", "OG.1.1", "Parcours vers l'emploi des jeunes", 85),
    "CPO-CCCO-2024-02": ("Cœur d'Ostrevent Insertion", "OG.1.2", "Remobilisation et savoir-être", 60),
    "CPO-CCCO-2024-03": ("Maison des jeunes et de l'insertion", "OG.1.1", "Immersions en entreprise", 45),
}
# Seed 001, section II.1: (qpv_epci value, count behind it, qpv_departement, epci, millésime, previous value).
SEED_INDICATORS = {
    "population": (12109, None, None, None, 2018, 12407),
    "part_moins_15_ans": (23.0, 2740, 25.0, 20.0, 2018, 23.8),
    "indice_jeunesse": (1.5, None, 2.0, 1.1, 2018, 1.6),
    "indice_evolution_agees": (1.8, None, 2.3, 1.9, 2018, 1.6),
    "familles_monoparentales_familles": (43.3, 767, 44.9, 30.8, 2018, 41.0),
    "familles_monoparentales_menages": (20.8, 767, 18.3, 16.8, 2018, 19.9),
    "menages_une_personne": (31.0, 1520, 39.0, 28.0, 2018, 29.4),
    "taux_pauvrete": (37.0, 4500, 44.0, 20.0, 2020, 39.0),
    "menages_minima_sociaux": (21.2, 1479, 22.1, 10.1, 2021, 19.1),
    "part_c2s": (33.7, 3781, 37.8, None, 2022, 28.3),
    "scolarisation_filles_15_24": (50.3, None, 59.7, 60.0, 2019, 52.1),
    "lyceens_filiere_pro": (59.0, 310, 48.0, None, 2020, 61.5),
    "part_sans_diplome": (46.0, 4270, 44.0, 33.0, 2019, 49.2),
    "part_bac2_plus": (8.0, None, 16.0, 19.0, 2019, 6.9),
    "taux_emploi_15_64": (42.2, 3136, 40.8, 55.6, 2019, 40.9),
    "taux_emploi_femmes": (37.2, None, 35.8, 51.7, 2019, 35.6),
    "taux_emploi_precaire": (18.0, 870, 26.0, 17.0, 2019, 17.1),
}
# How each QPV departs from the QPV average (seed II.1: Lemay, Somain, Masny, Barrois, Montigny poorest).
QPV_FRAGILITY = {"QN05934M": 0.92, "QN05935M": 0.97, "QN05936M": 1.10, "QN05937M": 1.06, "QN05938M": 1.06,
                 "QN05939M": 1.16, "QN05940M": 1.12, "QN05994I": 0.85}
FIRST_NAMES = ["Emma", "Lucas", "Léa", "Hugo", "Chloé", "Nathan", "Manon", "Enzo", "Inès", "Théo", "Camille",
               "Yanis", "Sarah", "Rayan", "Jade", "Mathis"]
LAST_NAMES = ["Lefebvre", "Dupont", "Lemaire", "Delattre", "Carpentier", "Deschamps", "Lecomte", "Dubois",
              "Wattel", "Lheureux", "Boulanger", "Caron", "Masclet", "Dhaussy"]


class Demo:
    def __init__(self, racine: Path):
        self.rng = random.Random(2024)
        self.racine = racine
        self.territoire = yaml.safe_load((ROOT / "config/territoires/ccco.yaml").read_text(encoding="utf-8"))
        self.qpv = [q["code"] for q in self.territoire["qpv"]]
        self.population = {q["code"]: q["population"] for q in self.territoire["qpv"]}
        self.catalogue = {i["code"]: i for i in yaml.safe_load(
            (ROOT / "config/catalogues/compas_qpv.yaml").read_text(encoding="utf-8"))["indicateurs"]}
        self.expected: list[dict] = []
        self.programmes: dict[int, list[dict]] = {}

    # --- writing ----------------------------------------------------------------------------------

    def folder(self, annee: int) -> Path:
        return self.racine / "inbox" / "ccco" / str(annee)

    def csv(self, annee: int, name: str, rows: list[dict], french: bool = False) -> None:
        """`french`: Windows-1252, `;`, decimal commas, thousands with a no-break space and a trailing €."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=";" if french else ",",
                                lineterminator="\r\n" if french else "\n")
        writer.writeheader()
        writer.writerows([{k: self._french(v) if french else self._plain(v) for k, v in r.items()} for r in rows])
        path = self.folder(annee) / name
        path.write_bytes(buffer.getvalue().encode("cp1252" if french else "utf-8"))

    @staticmethod
    def _plain(v) -> str:
        return "" if v is None else (f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v))

    @staticmethod
    def _french(v) -> str:
        if isinstance(v, float):
            whole, _, dec = f"{v:,.2f}".partition(".")
            text = whole.replace(",", "\u00a0") + ("," + dec if dec != "00" else "")
            return text + " €" if abs(v) >= 100 else text
        return "" if v is None else str(v)

    def xlsx(self, annee: int, name: str, sheets: dict[str, list[dict]]) -> None:
        book = openpyxl.Workbook()
        book.remove(book.active)
        for title, rows in sheets.items():
            sheet = book.create_sheet(title)
            sheet.append(list(rows[0]))
            for r in rows:
                sheet.append([None if v == "" else v for v in r.values()])
        book.properties.created = book.properties.modified = FIXED_TIME
        raw = io.BytesIO()
        book.save(raw)
        out = io.BytesIO()  # rewrite the zip with fixed entry times: byte-identical on every run
        with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in sorted(src.infolist(), key=lambda i: i.filename):
                info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME.timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                data = src.read(item.filename)
                if item.filename == "docProps/core.xml":  # openpyxl stamps the save time in `modified`
                    data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + FIXED_TIME.strftime(
                        "%Y-%m-%dT%H:%M:%SZ").encode(), data)
                dst.writestr(info, data)
        (self.folder(annee) / name).write_bytes(out.getvalue())

    def expect(self, annee, fichier, ligne, colonne, regle):
        self.expected.append({"annee": annee, "fichier": fichier, "ligne": ligne, "colonne": colonne, "regle": regle})

    # --- programmation ----------------------------------------------------------------------------

    def siret(self) -> str:
        base = [self.rng.randint(0, 9) for _ in range(13)]
        for last in range(10):
            digits = base + [last]
            total = sum((d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 1 else d
                        for i, d in enumerate(reversed(digits)))
            if total % 10 == 0:
                return "".join(map(str, digits))
        raise AssertionError

    def programmation(self) -> None:
        rng = self.rng
        sirets = {p: (self.siret() if rng.random() < 0.8 else "") for p, _ in PORTEURS}
        cpos = {ref: dict(porteur=p, objectif=og, intitule=t, debut=2024, fin=2026)
                for ref, (p, og, t, _) in COHORT_CPO.items()}
        for n in range(4, 21):  # other CPO running 2024-2026
            og = rng.choice(list(ACTIONS))
            cpos[f"CPO-CCCO-2024-{n:02d}"] = dict(porteur=rng.choice(PORTEURS)[0], objectif=og,
                                                  intitule=rng.choice(ACTIONS[og]), debut=2024, fin=2026)
        for annee in YEARS:
            if annee == 2025:
                for n in (1, 2, 3, 4):
                    og = rng.choice(["OG.3.3", "OG.4.2"])
                    cpos[f"CPO-CCCO-2025-{n:02d}"] = dict(porteur=rng.choice(PORTEURS)[0], objectif=og,
                                                          intitule=rng.choice(ACTIONS[og]), debut=2025, fin=2027)
            dossiers = []
            for ref, c in cpos.items():
                if c["debut"] <= annee <= c["fin"]:
                    dossiers.append(dict(porteur=c["porteur"], objectif=c["objectif"], intitule=c["intitule"],
                                         mode="CPO", ref=ref, debut=c["debut"], fin=c["fin"]))
            target = 94 if annee == 2024 else 101
            objectifs = list(WEIGHTS)
            while len(dossiers) < target:
                og = rng.choices(objectifs, weights=[WEIGHTS[o] for o in objectifs])[0]
                porteur = rng.choice(PORTEURS)[0]
                mode = "fil_de_l_eau" if rng.random() < 0.12 else "AAP"
                dossiers.append(dict(porteur=porteur, objectif=og, intitule=rng.choice(ACTIONS[og]), mode=mode,
                                     ref="", debut="", fin=""))
            rows = []
            for i, d in enumerate(dossiers, start=1):
                d["numero"] = f"{annee}-{i:05d}"
                d["qpv"] = ("TOUS" if rng.random() < 0.3 else ";".join(sorted(rng.sample(self.qpv, rng.choice([1, 1, 2, 3])))))
                bop = rng.choice([2000, 2500, 3000, 3500, 4000, 5000, 6000, 7500, 8000, 10000])
                if d["mode"] == "CPO":
                    bop = rng.choice([6000, 8000, 10000, 12000])
                lines = [("etat_bop147", "specifique", bop)]
                if rng.random() < 0.8:
                    lines.append(("epci", "specifique", round(bop * rng.uniform(0.4, 1.0), -2)))
                if rng.random() < 0.45:
                    lines.append(("commune", rng.choice(["specifique", "droit_commun"]), round(bop * rng.uniform(0.2, 0.6), -2)))
                if rng.random() < 0.15:
                    lines.append(("region", "specifique", round(bop * rng.uniform(0.3, 0.8), -2)))
                if rng.random() < 0.2:
                    lines.append((rng.choice(["departement", "caf", "ars"]), "droit_commun",
                                  round(bop * rng.uniform(0.3, 1.0), -2)))
                statut = rng.choices(["accorde", "refuse", "en_instruction", "abandonne"], [90, 4, 4, 2])[0]
                if d["mode"] == "CPO":
                    statut = "accorde"
                total_granted = 0.0
                for financeur, nature, amount in lines:
                    asked = float(amount)
                    granted = None if statut == "en_instruction" else (0.0 if statut in ("refuse", "abandonne")
                                                                     else float(round(asked * rng.choice([1, 1, 1, 0.9, 0.8]), -1)))
                    total_granted += granted or 0
                    rows.append(dict(numero=d["numero"], financeur=financeur, nature=nature, asked=asked,
                                     granted=granted, statut=statut, d=d))
                d["cout"] = float(round(max(total_granted, sum(a for _, _, a in lines)) * rng.uniform(1.1, 1.8), -2))
                d["statut"] = statut
            self.programmes[annee] = dossiers
            self._write_programmation(annee, rows, sirets)

    def _write_programmation(self, annee: int, rows: list[dict], sirets: dict) -> None:
        def record(r):
            d = r["d"]
            return {"_dossier": d, "N° dossier": d["numero"], "Année": annee, "Porteur": d["porteur"], "SIRET": sirets[d["porteur"]],
                    "Intitulé de l'action": d["intitule"], "Code objectif": d["objectif"], "QPV cibles": d["qpv"],
                    "Mode de financement": d["mode"], "Référence CPO": d["ref"], "CPO année début": d["debut"],
                    "CPO année fin": d["fin"], "Financeur": r["financeur"], "Nature crédit": r["nature"],
                    "Montant demandé (€)": r["asked"], "Montant accordé (€)": r["granted"],
                    "Statut": r["statut"], "Coût total action (€)": d["cout"]}
        platform = [record(r) for r in rows if r["d"]["mode"] != "fil_de_l_eau"]
        fil = [record(r) for r in rows if r["d"]["mode"] == "fil_de_l_eau"]
        # Purposeful breaches, on single-row dossiers so each row fails one rule only.
        singles = [i for i, r in enumerate(platform) if sum(x["N° dossier"] == r["N° dossier"] for x in platform) == 1
                   and r["Statut"] == "accorde" and r["Mode de financement"] == "AAP"]
        name = f"programmation_{annee}_dauphin.xlsx"
        a, b, c = singles[:3]
        for i in (a, b, c):
            platform[i]["_dossier"]["casse"] = True  # its reports would be refused too: none are generated
        platform[a]["Statut"] = "refuse"
        self.expect(annee, name, a + 2, "montant_accorde", "statut_montant")
        platform[b]["SIRET"] = "12345678901234"
        self.expect(annee, name, b + 2, "siret", "siret_invalide")
        platform[c]["Code objectif"] = "OG.5.1"
        self.expect(annee, name, c + 2, "code_objectif", "objectif_inconnu")
        strip = lambda rows: [{k: v for k, v in r.items() if k != "_dossier"} for r in rows]  # noqa: E731
        self.xlsx(annee, name, {"Export": strip(platform)})
        if fil:
            self.csv(annee, f"programmation_{annee}_fil_de_l_eau.csv", strip(fil), french=True)

    # --- action reports ---------------------------------------------------------------------------

    def bilans_actions(self) -> None:
        rng = self.rng
        granted = {y: [d for d in self.programmes[y] if d["statut"] == "accorde" and not d.get("casse")]
                   for y in YEARS}
        early = set(rng.sample(range(len(granted[2024])), len(granted[2024]) // 3))
        reports = {2024: [(d, 2024) for i, d in enumerate(granted[2024]) if i in early],
                   2025: [(d, 2024) for i, d in enumerate(granted[2024]) if i not in early and rng.random() < 0.9]
                   + [(d, 2025) for d in granted[2025] if rng.random() < 0.25]}
        for annee, items in reports.items():
            rows = []
            for d, year in items:
                total = rng.randint(10, 400) if d["objectif"] not in ("OG.4.3", "OG.2.2") else rng.randint(8, 80)
                women = round(total * rng.uniform(0.35, 0.75))
                men = total - women - (1 if total > 30 and rng.random() < 0.2 else 0)
                rows.append({"numero_dossier": d["numero"], "annee_action": year,
                             "realisation": rng.choices(["realisee", "partielle", "non_realisee"], [85, 13, 2])[0],
                             "beneficiaires_total": total, "beneficiaires_femmes": women, "beneficiaires_hommes": men,
                             "beneficiaires_residents_qpv": round(total * rng.uniform(0.55, 0.95)),
                             "beneficiaires_moins_26_ans": round(total * rng.uniform(0.1, 0.8)),
                             "depenses_realisees": float(round(d["cout"] * rng.uniform(0.7, 1.05), -1)),
                             "commentaire": ""})
            half = len(rows) // 2
            xlsx_rows, csv_rows = rows[:half], rows[half:]
            name_x, name_c = f"bilans_actions_{annee}_ccco.xlsx", f"bilans_actions_{annee}_centres_sociaux.csv"
            xlsx_rows[1]["beneficiaires_femmes"] = xlsx_rows[1]["beneficiaires_total"] + 3
            self.expect(annee, name_x, 3, "beneficiaires_femmes", "beneficiaires_incoherents")
            csv_rows[2]["numero_dossier"] = f"{annee - 1}-00999"
            self.expect(annee, name_c, 4, "numero_dossier", "dossier_inconnu")
            self.xlsx(annee, name_x, {"Bilans": xlsx_rows})
            self.csv(annee, name_c, csv_rows)

    # --- partners' commitments --------------------------------------------------------------------

    COMMITMENTS = {
        "Préfecture du Nord": [("OG.3.3", "Pass Sport et Pass Culture pour 100 % des jeunes éligibles",
                                "jeunes éligibles bénéficiaires du Pass Sport", "pourcentage", 100, (62, 88)),
                               ("OG.3.4", "Déploiement du SNU pour les jeunes du territoire", "jeunes en séjour SNU",
                                "nombre", 60, (35, 70)),
                               ("OG.4.1", "Postes d'adultes-relais dans les quartiers", "postes financés", "nombre", 6,
                                (5, 7))],
        "France Travail": [("OG.1.1", "Accompagnement renforcé des demandeurs d'emploi des QPV",
                            "demandeurs d'emploi QPV accompagnés", "nombre", 900, (780, 980)),
                           ("OG.1.1", "Part des QPV dans les contrats aidés (PEC)", "part des PEC pour des résidents QPV",
                            "pourcentage", 25, (19, 31))],
        "CAF du Nord": [("OG.1.1", "Places en crèche à vocation d'insertion professionnelle (AVIP)",
                         "places AVIP ouvertes", "nombre", 12, (8, 14)),
                        ("OG.4.2", "Soutien à la parentalité (REAAP)", "actions parentalité financées", "nombre", 10,
                         (7, 12))],
        "CPAM Lille-Douai": [("OG.3.1", "Bilans de santé précarité (score EPICE)", "bilans de santé réalisés",
                              "nombre", 1800, (1500, 1900)),
                             ("OG.3.1", "Accès à la complémentaire santé solidaire", "dossiers C2S ouverts", "nombre",
                              600, (480, 650))],
        "ARS Hauts-de-France": [("OG.3.1", "Contrat local de santé : actions de prévention en QPV",
                                 "actions de prévention", "nombre", 15, (11, 17))],
        "Éducation nationale": [("OG.3.3", "Stages de 3e pour les collégiens des QPV",
                                 "collégiens QPV ayant trouvé un stage", "pourcentage", 100, (83, 97)),
                                ("OG.3.3", "Cordées de la réussite", "élèves en cordées", "nombre", 120, (90, 140))],
        "Région Hauts-de-France": [("OG.1.1", "Formations qualifiantes pour les résidents des QPV",
                                    "entrées en formation de résidents QPV", "nombre", 250, (190, 270))],
        "Département du Nord": [("OG.1.1", "Accompagnement des allocataires du RSA résidant en QPV",
                                 "allocataires RSA accompagnés", "nombre", 700, (610, 760))],
        "Communauté de communes Cœur d'Ostrevent": [
            ("OG.1.1", "Clauses d'insertion dans les marchés publics", "heures d'insertion réalisées", "nombre", 20000,
             (16000, 23000)),
            ("OG.2.1", "Gestion urbaine de proximité", "diagnostics en marchant", "nombre", 16, (10, 18))],
        "Mission Locale du Douaisis": [("OG.1.1", "Contrats d'engagement jeune pour les résidents des QPV",
                                        "jeunes QPV en CEJ", "nombre", 220, (170, 240))],
    }

    def engagements(self) -> None:
        rng = self.rng
        for annee in YEARS:
            for partenaire in self.territoire["partenaires_attendus"]:
                if annee == 2025 and partenaire["nom"] == "Mission Locale du Douaisis":
                    continue  # a partner who has not sent its file yet
                rows = []
                for og, engagement, indicateur, unite, cible, (lo, hi) in self.COMMITMENTS[partenaire["nom"]]:
                    per_qpv = unite == "nombre" and cible >= 500 and rng.random() < 0.6
                    places = self.qpv if per_qpv else [""]
                    for qpv in places:
                        share = self.population[qpv] / 12700 if qpv else 1
                        done = rng.randint(lo, hi) * share
                        rows.append({
                            "Partenaire": partenaire["nom"], "Type partenaire": partenaire["type_partenaire"],
                            "Année": annee, "Code objectif": og.replace("OG.", "O.G.") if rng.random() < 0.3 else og,
                            "Engagement": engagement, "Indicateur": indicateur, "Unité": unite,
                            "Valeur cible": float(round(cible * share)), "Valeur réalisée":
                                (None if rng.random() < 0.08 else float(round(done))),
                            "Code QPV": qpv,
                            "Montant droit commun (€)": (float(round(rng.uniform(20, 400)) * 1000)
                                                         if rng.random() < 0.5 and not qpv else None),
                            "Commentaire": ""})
                slug = partenaire["nom"].lower().replace("é", "e").replace("è", "e").replace("'", " ").split()
                name = f"engagements_{annee}_{'_'.join(slug[:3])}.csv"
                if partenaire["nom"] == "Éducation nationale":
                    rows[0]["Valeur réalisée"] = 112.0
                    self.expect(annee, name, 2, "valeur_realisee", "valeur_maximale")
                if partenaire["nom"] == "France Travail":
                    qpv_rows = [i for i, r in enumerate(rows) if r["Code QPV"] == "QN05936M"]
                    if qpv_rows:
                        rows[qpv_rows[0]]["Code QPV"] = "QM05936M"
                        self.expect(annee, name, qpv_rows[0] + 2, "code_qpv", "qpv_inconnu")
                if partenaire["nom"] == "CAF du Nord":
                    rows.append(dict(rows[0]))
                    self.expect(annee, name, len(rows) + 1, "partenaire", "cle_dupliquee")
                self.csv(annee, name, rows, french=partenaire["type_partenaire"] in ("etat", "operateur_etat"))

    # --- TFPB -------------------------------------------------------------------------------------

    def tfpb(self) -> None:
        rng = self.rng
        axes = ["personnel_proximite", "formation_personnel", "sur_entretien", "dechets_encombrants", "tranquillite",
                "concertation", "lien_social", "petits_travaux"]
        presence = {"Maisons et Cités": self.qpv[:], "SIA Habitat": ["QN05934M", "QN05938M", "QN05940M"],
                    "Norévie": ["QN05936M", "QN05939M"], "Partenord Habitat": ["QN05935M", "QN05937M"],
                    "SIGH": ["QN05940M", "QN05994I"]}
        for annee in YEARS:
            for bailleur, qpvs in presence.items():
                patrimoine, actions = [], []
                for qpv in qpvs:
                    dwellings = max(20, round(self.population[qpv] / 2.4 * rng.uniform(0.25, 0.55)))
                    abatement = float(round(dwellings * rng.uniform(130, 250)))
                    patrimoine.append({"bailleur": bailleur, "code_qpv": qpv, "annee": annee,
                                       "nb_logements": dwellings, "montant_abattement": abatement})
                    ratio = 0.82 if (bailleur, qpv) == ("SIA Habitat", "QN05940M") else rng.uniform(1.0, 1.35)
                    n = rng.randint(3, 8)
                    weights = [rng.random() for _ in range(n)]
                    for w in weights:
                        axe = rng.choice(axes)
                        actions.append({"bailleur": bailleur, "code_qpv": qpv, "annee": annee, "axe": axe,
                                        "intitule_action": f"{axe.replace('_', ' ').capitalize()} — {qpv}",
                                        "montant_valorise": float(round(abatement * ratio * w / sum(weights))),
                                        "cofinancement": (float(round(rng.uniform(500, 8000))) if rng.random() < 0.3
                                                          else None)})
                slug = bailleur.lower().replace("é", "e").replace(" ", "_")
                if bailleur == "Norévie":
                    actions.append({**actions[0], "code_qpv": "QN05934M", "intitule_action": "Fête des voisins"})
                    name = f"tfpb_actions_{slug}_{annee}.csv"
                    self.expect(annee, name, len(actions) + 1, "code_qpv", "patrimoine_absent")
                    self.csv(annee, f"tfpb_patrimoine_{slug}_{annee}.csv", patrimoine, french=True)
                    self.csv(annee, name, actions, french=True)
                    continue
                name = f"tfpb_{slug}_{annee}.xlsx"
                if bailleur == "Partenord Habitat":
                    actions[1]["montant_valorise"] = -1500.0
                    self.expect(annee, name, 3, "actions.montant_valorise", "valeur_minimale")
                self.xlsx(annee, name, {"patrimoine": patrimoine, "actions": actions})

    # --- indicators -------------------------------------------------------------------------------

    def indicator_rows(self, millesimes: set[int] | None = None, only: set[str] | None = None) -> list[dict]:
        rng = random.Random(59)  # same rows in both years' exports
        siren, rows = self.territoire["siren_epci"], []
        for code, (value, count, dep, epci, year, previous) in SEED_INDICATORS.items():
            if only and code not in only:
                continue
            info = self.catalogue[code]
            for millesime, level_value in ((year - 3, previous), (year, value)):
                if millesimes and millesime not in millesimes:
                    continue
                source = f"{info['source']} {millesime}"
                base = {"code_indicateur": code, "libelle_indicateur": info["libelle"], "millesime": millesime,
                        "unite": info["unite"], "source": source}
                rows.append({**base, "niveau_geo": "qpv_epci", "code_geo": siren, "valeur": level_value,
                             "numerateur": None, "denominateur": None, "secret": ""})
                if millesime == year:
                    for level, v, code_geo in (("qpv_departement", dep, "59"), ("epci", epci, siren)):
                        if v is not None:
                            rows.append({**base, "niveau_geo": level, "code_geo": code_geo, "valeur": v,
                                         "numerateur": None, "denominateur": None, "secret": ""})
                rows += self.per_qpv(base, code, level_value, count, rng, millesime == year)
        return rows

    def per_qpv(self, base, code, rate, count, rng, latest) -> list[dict]:
        """Per-QPV rows whose Σ numerators / Σ denominators give the territory's QPV rate (rates never summed)."""
        unit = self.catalogue[code]["unite"]
        weights = {q: self.population[q] / 12700 for q in self.qpv}
        out = []
        if unit != "pourcentage":
            for q in self.qpv:
                v = (round(rate * weights[q]) if unit == "nombre"
                     else round(rate * rng.uniform(0.8, 1.2) * (1.4 if q == "QN05994I" and code == "indice_jeunesse" else 1), 1))
                out.append({**base, "niveau_geo": "qpv", "code_geo": q, "valeur": v, "numerateur": None,
                            "denominateur": None, "secret": ""})
            return out
        total_den = round(count / (rate / 100)) if count else round(12109 * rng.uniform(0.3, 0.7))
        total_num = round(total_den * rate / 100)
        dens = {q: round(total_den * weights[q]) for q in self.qpv}
        dens[self.qpv[0]] += total_den - sum(dens.values())
        fragility = {q: QPV_FRAGILITY[q] if code in ("taux_pauvrete", "part_c2s", "menages_minima_sociaux",
                                                     "part_sans_diplome") else rng.uniform(0.9, 1.1) for q in self.qpv}
        raw = {q: dens[q] * rate / 100 * fragility[q] for q in self.qpv}
        scale = total_num / sum(raw.values())
        nums = {q: round(raw[q] * scale) for q in self.qpv}
        nums[self.qpv[0]] += total_num - sum(nums.values())
        for q in self.qpv:
            secret = latest and q == "QN05994I" and code in ("lyceens_filiere_pro", "taux_emploi_precaire")
            out.append({**base, "niveau_geo": "qpv", "code_geo": q,
                        "valeur": None if secret else round(100 * nums[q] / dens[q], 1),
                        "numerateur": None if secret else nums[q], "denominateur": None if secret else dens[q],
                        "secret": "oui" if secret else ""})
        return out

    def indicateurs(self) -> None:
        for annee in YEARS:
            rows = self.indicator_rows()
            name = "indicateurs_compas_chiffres_cles_qp.csv"
            qpv_rows = [i for i, r in enumerate(rows) if r["niveau_geo"] == "qpv" and r["numerateur"]]
            i = qpv_rows[5 if annee == 2024 else 11]
            rows[i]["valeur"] = round(rows[i]["valeur"] + 4.0, 1)
            self.expect(annee, name, i + 2, "valeur", "ratio_incoherent")
            rows.append({**rows[0], "code_indicateur": "taux_chomage_jeunes", "libelle_indicateur": "Chômage des jeunes"})
            self.expect(annee, name, len(rows) + 1, "code_indicateur", "indicateur_inconnu")
            self.csv(annee, name, [{k: r[k] for k in ("code_indicateur", "libelle_indicateur", "niveau_geo", "code_geo",
                                                      "millesime", "valeur", "numerateur", "denominateur", "unite",
                                                      "source", "secret")} for r in rows])
        # 2025: CNAM's newer C2S millésime arrives as its own workbook
        c2s = [dict(r, millesime=2023, source="CNAM 2023") for r in self.indicator_rows({2022}, {"part_c2s"})
               if r["niveau_geo"] in ("qpv", "qpv_epci", "qpv_departement")]
        for r in c2s:
            bump = 1.6 if r["niveau_geo"] != "qpv_departement" else 0.9
            if r["numerateur"]:
                r["numerateur"] = round(r["numerateur"] * (1 + bump / r["valeur"]))
                r["valeur"] = round(100 * r["numerateur"] / r["denominateur"], 1)
            elif r["valeur"] is not None:
                r["valeur"] = round(r["valeur"] + bump, 1)
        self.xlsx(2025, "indicateurs_cnam_c2s_2023.xlsx", {"C2S": c2s})

    # --- cohorts ----------------------------------------------------------------------------------

    TRANSITIONS = {
        "recherche_emploi": {"emploi_transition": 25, "formation_qualifiante": 17, "emploi_durable": 11,
                             "recherche_emploi": 35, "inactif": 4, "perdu_de_vue": 8},
        "inactif": {"recherche_emploi": 40, "inactif": 35, "formation_qualifiante": 12, "perdu_de_vue": 13},
        "emploi_transition": {"emploi_durable": 38, "emploi_transition": 37, "recherche_emploi": 18, "perdu_de_vue": 7},
        "formation_qualifiante": {"emploi_durable": 20, "emploi_transition": 28, "formation_qualifiante": 27,
                                  "recherche_emploi": 20, "perdu_de_vue": 5},
        "emploi_durable": {"emploi_durable": 86, "emploi_transition": 8, "perdu_de_vue": 6},
        "perdu_de_vue": {"perdu_de_vue": 100},
    }

    def step(self, situation: str) -> str:
        options = self.TRANSITIONS[situation]
        return self.rng.choices(list(options), weights=list(options.values()))[0]

    def cohortes(self) -> None:
        rng = self.rng
        files: dict[tuple[str, int], list[dict]] = {}
        for ref, (porteur, og, title, per_year) in COHORT_CPO.items():
            prefix = "".join(w[0] for w in porteur.replace("'", " ").split() if w[0].isupper())[:3]
            people = 0
            for entry_year in YEARS:
                for _ in range(per_year + rng.randint(-8, 8)):
                    people += 1
                    pid = f"{prefix}-{entry_year % 100}-{people:05d}"
                    entry = dt.date(entry_year, 1, 1) + dt.timedelta(days=rng.randint(0, 330))
                    person = {"sexe": rng.choices(["F", "M", "NR"], [47, 51, 2])[0],
                              "annee_naissance": entry_year - rng.choice([rng.randint(16, 25)] * 3 + [rng.randint(26, 49),
                                                                                                      rng.randint(50, 62)]),
                              "code_qpv": rng.choice(self.qpv) if rng.random() < 0.7 else "HORS_QPV",
                              "nom": rng.choice(LAST_NAMES), "prenom": rng.choice(FIRST_NAMES)}
                    situation = "recherche_emploi" if rng.random() < 0.72 else "inactif"
                    plan = [("entree", 0), ("6_mois", 182), ("12_mois", 365), ("24_mois", 730)]
                    for jalon, days in plan:
                        seen = entry + dt.timedelta(days=days + (rng.randint(0, 20) if days else 0))
                        if seen.year > 2025:
                            break
                        if days:
                            situation = self.step(situation)
                        files.setdefault((ref, seen.year), []).append(
                            {"reference_cpo": ref, "identifiant_beneficiaire": pid, "date_entree": entry,
                             "jalon": jalon, "date_observation": seen, "situation": situation, **person})
                        if situation in ("emploi_durable", "formation_qualifiante") and days >= 182 and rng.random() < 0.5:
                            out = seen + dt.timedelta(days=rng.randint(5, 40))
                            if out.year <= 2025:
                                files.setdefault((ref, out.year), []).append(
                                    {"reference_cpo": ref, "identifiant_beneficiaire": pid, "date_entree": entry,
                                     "jalon": "sortie", "date_observation": out, "situation": situation, **person})
                            break
        for (ref, annee), rows in sorted(files.items()):
            with_contacts = ref == "CPO-CCCO-2024-01"  # this porteur exports its whole tracking sheet
            out = []
            for r in rows:
                line = {}
                if with_contacts:
                    line.update({"Nom": r["nom"].upper(), "Prénom": r["prenom"],
                                 "E-mail": f"{r['prenom'].lower()}.{r['nom'].lower()}@exemple.fr".replace("é", "e").replace("è", "e"),
                                 "Téléphone": f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"})
                line.update({"reference_cpo": r["reference_cpo"], "identifiant_beneficiaire": r["identifiant_beneficiaire"],
                             "date_entree": r["date_entree"].strftime("%d/%m/%Y"), "jalon": r["jalon"],
                             "date_observation": r["date_observation"].strftime("%d/%m/%Y"),
                             "situation": r["situation"], "sexe": r["sexe"], "annee_naissance": r["annee_naissance"],
                             "code_qpv": r["code_qpv"]})
                out.append(line)
            name = f"cohortes_{ref.lower()}_{annee}.csv"
            if ref == "CPO-CCCO-2024-02":
                bad = next(i for i, r in enumerate(out) if r["jalon"] == "6_mois")
                out[bad]["date_observation"] = "02/01/" + str(int(out[bad]["date_entree"][-4:]) - 1)
                self.expect(annee, name, bad + 2, "date_observation", "date_observation")
                out.append({**out[0], "reference_cpo": "CPO-CCCO-2023-09", "identifiant_beneficiaire": "CDI-99-00001"})
                self.expect(annee, name, len(out) + 1, "reference_cpo", "cpo_inconnue")
            self.csv(annee, name, out, french=with_contacts)

    def run(self) -> None:
        for annee in YEARS:
            folder = self.folder(annee)
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
        self.programmation()
        self.bilans_actions()
        self.engagements()
        self.tfpb()
        self.indicateurs()
        self.cohortes()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["annee", "fichier", "ligne", "colonne", "regle"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(sorted(self.expected, key=lambda e: (e["annee"], e["fichier"], e["ligne"])))
        (self.racine / "erreurs_attendues.csv").write_text(buffer.getvalue(), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--racine", default=str(ROOT / "data" / "demo"))
    args = parser.parse_args()
    Demo(Path(args.racine)).run()
    for path in sorted(Path(args.racine).rglob("*.*")):
        print(f"{path.relative_to(args.racine)}  {path.stat().st_size} octets")


if __name__ == "__main__":
    main()
