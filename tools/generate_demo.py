"""Boîte de dépôt de démonstration de la CC Cœur d'Ostrevent (ccco), années de programmation 2024 et 2025.

    .venv/bin/python tools/generate_demo.py [--racine data/demo]

Codes, noms et populations viennent de config/ (territoire, référentiel, catalogue d'indicateurs) ; les chiffres
des indicateurs, du tableau « QP de la CCCO / QP du Nord / CCCO » du seed 001 (section II.1) ; les ordres de
grandeur de shared/field-facts.md. Tout le reste est tiré d'un seul générateur pseudo-aléatoire à graine fixe :
deux exécutions écrivent des fichiers identiques à l'octet. Quelques lignes enfreignent volontairement une règle
du contrat, comme dans les vrais fichiers ; chacune est listée dans erreurs_attendues.csv.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import yaml
from openpyxl.writer.excel import ExcelWriter

ROOT = Path(__file__).resolve().parent.parent
TERRITOIRE = "ccco"
ANNEES = (2024, 2025)
GRAINE = 2024
HORODATAGE = dt.datetime(2025, 1, 6, 9, 0, 0)  # stamped in every XLSX instead of the clock
NBSP = "\u00a0"


class Euros(float):
    """An amount: written `12 500,00 €` in French CSV files and with a currency format in XLSX."""


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "_".join("".join(c if c.isalnum() else " " for c in ascii_text).split())


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def luhn_complete(prefix: str) -> str:
    return next(prefix + str(k) for k in range(10) if luhn_ok(prefix + str(k)))


# =====================================================================================================
# Configuration read from config/ (never copied here)
# =====================================================================================================


@dataclass
class Config:
    territoire: dict
    referentiel: dict
    catalogue: dict[str, dict]

    @classmethod
    def charger(cls) -> Config:
        lire = lambda p: yaml.safe_load((ROOT / "config" / p).read_text(encoding="utf-8"))
        territoire = lire(f"territoires/{TERRITOIRE}.yaml")
        referentiel = lire(f"referentiels/{territoire['referentiel']}.yaml")
        catalogue = lire(f"catalogues/{territoire['catalogue_indicateurs']}.yaml")
        return cls(territoire, referentiel, {i["code"]: i for i in catalogue["indicateurs"]})

    @property
    def qpv(self) -> list[dict]:
        return self.territoire["qpv"]

    @property
    def codes_qpv(self) -> list[str]:
        return [q["code"] for q in self.qpv]

    @property
    def siren(self) -> str:
        return self.territoire["siren_epci"]

    @property
    def objectifs(self) -> list[str]:
        return [o["code"] for a in self.referentiel["axes"] for o in a["objectifs"]]

    def qpv_nomme(self, fragment: str) -> str:
        """The QPV whose name contains `fragment` (the seed speaks of QPV by name)."""
        found = [q["code"] for q in self.qpv if fragment.lower() in q["nom"].lower()]
        assert len(found) == 1, (fragment, found)
        return found[0]

    def code_commune(self, nom: str) -> str:
        return next(c["code_insee"] for c in self.territoire["communes"] if c["nom"] == nom)

    def qpv_de_commune(self, nom: str) -> list[str]:
        code = self.code_commune(nom)
        return [q["code"] for q in self.qpv if code in q["communes"]]


# =====================================================================================================
# Writing files: CSV (UTF-8 or French Excel), XLSX, and the list of deliberate breaches
# =====================================================================================================

ERREUR = "_erreur"  # key of a row dict: (colonne, regle) of the one rule this row breaks on purpose


@dataclass
class FormatFr:
    """French Excel CSV: Windows-1252, `;`, decimal comma, thousands separator, trailing €, JJ/MM/AAAA."""

    milliers: str = NBSP


class Boite:
    def __init__(self, racine: Path, territoire: str = TERRITOIRE):
        self.racine = racine
        self.territoire = territoire
        self.attendues: list[dict] = []
        self.ecrits: list[tuple[int, str, dict[str, int]]] = []

    def dossier(self, annee: int) -> Path:
        return self.racine / "inbox" / self.territoire / str(annee)

    def vider(self) -> None:
        for annee in ANNEES:
            if self.dossier(annee).exists():
                shutil.rmtree(self.dossier(annee))
            self.dossier(annee).mkdir(parents=True)

    def _noter(self, annee: int, fichier: str, rows: list[dict], feuille: str | None = None) -> list[dict]:
        """Record the breaches with the row number a person sees (header = 1) and strip the markers."""
        propres = []
        for i, row in enumerate(rows, start=2):
            if ERREUR in row:
                colonne, regle = row[ERREUR]
                self.attendues.append({"annee": annee, "fichier": fichier, "ligne": i,
                                       "colonne": f"{feuille}.{colonne}" if feuille else colonne, "regle": regle})
            propres.append({k: v for k, v in row.items() if k != ERREUR})
        return propres

    # --- CSV ---------------------------------------------------------------------------------------

    def csv(self, annee: int, fichier: str, rows: list[dict], fr: FormatFr | None = None) -> None:
        rows = self._noter(annee, fichier, rows)
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";" if fr else ",", lineterminator="\r\n" if fr else "\n")
        writer.writerow(list(rows[0]))
        for row in rows:
            writer.writerow([self._texte_fr(v, fr) if fr else self._texte(v) for v in row.values()])
        data = buffer.getvalue().encode("cp1252" if fr else "utf-8")
        (self.dossier(annee) / fichier).write_bytes(data)
        self.ecrits.append((annee, fichier, {"": len(rows)}))

    @staticmethod
    def _texte(v) -> str:
        if v is None:
            return ""
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, float):
            return str(int(v)) if v == int(v) else f"{v:.2f}".rstrip("0")
        return str(v)

    @staticmethod
    def _texte_fr(v, fr: FormatFr) -> str:
        if v is None:
            return ""
        if isinstance(v, dt.date):
            return v.strftime("%d/%m/%Y")
        if isinstance(v, float):
            decimales = 2 if isinstance(v, Euros) else (0 if v == int(v) else 1)
            entier, _, frac = f"{abs(v):,.{decimales}f}".partition(".")
            texte = ("-" if v < 0 else "") + entier.replace(",", fr.milliers) + ("," + frac if frac else "")
            return texte + " €" if isinstance(v, Euros) else texte
        return str(v)

    # --- XLSX --------------------------------------------------------------------------------------

    def xlsx(self, annee: int, fichier: str, feuilles: dict[str, list[dict]], nommer_feuilles: bool = False) -> None:
        book = openpyxl.Workbook()
        book.remove(book.active)
        comptes = {}
        for titre, rows in feuilles.items():
            rows = self._noter(annee, fichier, rows, titre if nommer_feuilles else None)
            sheet = book.create_sheet(titre)
            sheet.append(list(rows[0]))
            for row in rows:
                sheet.append([None if v == "" else v for v in row.values()])
            for colonne in sheet.iter_cols(min_row=2):
                for cell in colonne:
                    if isinstance(cell.value, dt.datetime):
                        cell.number_format = "DD/MM/YYYY"
            for j, entete in enumerate(rows[0], start=1):  # currency format on amount columns
                if any(isinstance(r[entete], Euros) for r in rows):
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                        cell.number_format = '#,##0.00 "€"'
            comptes[titre] = len(rows)
        book.properties.creator = "Démo bilan-quartiers"
        book.properties.created = book.properties.modified = HORODATAGE
        brut = io.BytesIO()
        with zipfile.ZipFile(brut, "w", zipfile.ZIP_DEFLATED) as archive:
            ExcelWriter(book, archive).save()  # not openpyxl.save(): it stamps `modified` with the clock
        final = io.BytesIO()  # zip entries carry their own time: rewrite them with a constant one
        with zipfile.ZipFile(brut) as src, zipfile.ZipFile(final, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                info = zipfile.ZipInfo(item.filename, date_time=HORODATAGE.timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                dst.writestr(info, src.read(item.filename))
        (self.dossier(annee) / fichier).write_bytes(final.getvalue())
        self.ecrits.append((annee, fichier, comptes))

    def ecrire_attendues(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["annee", "fichier", "ligne", "colonne", "regle"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(sorted(self.attendues, key=lambda e: (e["annee"], e["fichier"], e["ligne"])))
        (self.racine / "erreurs_attendues.csv").write_text(buffer.getvalue(), encoding="utf-8")


def casser(row: dict, colonne: str, regle: str, **valeurs) -> dict:
    """Mark `row` as breaking `regle` on `colonne` and set the offending values."""
    row.update(valeurs)
    row[ERREUR] = (colonne, regle)
    return row


# =====================================================================================================
# Porteurs and programmation
# =====================================================================================================


@dataclass
class Porteur:
    nom: str
    commune: str | None  # where it works; None = intercommunal
    nature: str          # association, commune, ccas, epci
    siret: str = ""


# (nom, commune, nature): centres sociaux and facilities named in seed 001 (section III.2), plus usual partners.
PORTEURS = [
    ("Mission Locale du Douaisis", None, "association"), ("PLIE du Douaisis", None, "association"),
    ("EVS les Galibots", "Masny", "association"), ("CS le Phare", "Aniche", "association"),
    ("CS Jean Moulin", "Écaillon", "association"), ("CS Dolto", "Pecquencourt", "association"),
    ("CS Adolphe Largiller", "Somain", "association"),
    ("Maison de la Jeunesse", "Montigny-en-Ostrevent", "association"),
    ("Programme de Réussite Éducative Cœur d'Ostrevent", None, "epci"),
    ("Communauté de communes Cœur d'Ostrevent", None, "epci"),
    ("Commune d'Aniche", "Aniche", "commune"), ("Commune d'Auberchicourt", "Auberchicourt", "commune"),
    ("Commune d'Écaillon", "Écaillon", "commune"), ("Commune de Masny", "Masny", "commune"),
    ("Commune de Montigny-en-Ostrevent", "Montigny-en-Ostrevent", "commune"),
    ("Commune de Pecquencourt", "Pecquencourt", "commune"), ("Commune de Somain", "Somain", "commune"),
    ("Commune d'Hornaing", "Hornaing", "commune"), ("CCAS de Somain", "Somain", "ccas"),
    ("CCAS de Pecquencourt", "Pecquencourt", "ccas"), ("CCAS d'Hornaing", "Hornaing", "ccas"),
    ("CCAS de Masny", "Masny", "ccas"), ("Ludothèque Alapage", "Aniche", "association"),
    ("Épicerie solidaire de Montigny", "Montigny-en-Ostrevent", "association"),
    ("Les Jardins de Sessevalle", "Somain", "association"), ("Ressourcerie de l'Ostrevent", None, "association"),
    ("AFEJI Prévention spécialisée", None, "association"), ("CIDFF du Nord", None, "association"),
    ("France Victimes 59", None, "association"), ("Association Sport Santé Ostrevent", None, "association"),
    ("Compagnie du Bassin minier", None, "association"), ("Cœur d'Ostrevent Insertion", None, "association"),
]
COMMUNES = [p[0] for p in PORTEURS if p[2] == "commune"]
CCAS = [p[0] for p in PORTEURS if p[2] == "ccas"]

# Call for projects: per objective, typical actions and who carries them ("communes"/"ccas" = any of them).
AAP = {
    "OG.1.1": (["Immersions en entreprise et découverte des métiers porteurs",
                "Mobilité vers l'emploi : permis solidaire",
                "Garde d'enfants pour les parents en reprise d'emploi", "Détection des porteurs d'idées (CitésLab)",
                "Job dating de quartier", "Coaching emploi des femmes"],
               ["Mission Locale du Douaisis", "Cœur d'Ostrevent Insertion", "CIDFF du Nord",
                "Communauté de communes Cœur d'Ostrevent", "Commune de Somain", "Commune d'Aniche"]),
    "OG.1.2": (["Ateliers savoir-être et soft skills", "Lutter contre les stéréotypes dans l'orientation",
                "Rencontres avec les professionnels", "Chantier éducatif jeunes"],
               ["Cœur d'Ostrevent Insertion", "CIDFF du Nord", "Mission Locale du Douaisis", "Maison de la Jeunesse",
                "ccas"]),
    "OG.2.1": (["Végétalisation participative des cités minières", "Gestion urbaine de proximité",
                "Accompagnement social des locataires pendant la rénovation ERBM",
                "Sensibilisation aux économies d'énergie"],
               ["communes", "Communauté de communes Cœur d'Ostrevent", "Les Jardins de Sessevalle"]),
    "OG.2.2": (["Ressourcerie et réemploi de quartier", "Jardins partagés", "Repair café",
                "Ateliers cuisine anti-gaspillage"],
               ["Ressourcerie de l'Ostrevent", "Les Jardins de Sessevalle", "Épicerie solidaire de Montigny"]),
    "OG.3.1": (["Sport santé sur ordonnance", "Prévention santé par les pairs", "Aller-vers pour l'accès aux soins",
                "Compétences psychosociales au collège", "Ateliers nutrition et activité physique"],
               ["Association Sport Santé Ostrevent", "ccas", "communes", "Épicerie solidaire de Montigny"]),
    "OG.3.2": (["Lutte contre l'illectronisme", "Parents et écrans", "Accès aux droits en ligne"],
               ["communes", "ccas", "Mission Locale du Douaisis", "Ludothèque Alapage"]),
    "OG.3.3": (["Accompagnement à la scolarité", "Culture hors les murs", "Lutte contre l'illettrisme",
                "Théâtre en pied d'immeuble", "Ludothèque itinérante"],
               ["Compagnie du Bassin minier", "Ludothèque Alapage", "communes", "Maison de la Jeunesse"]),
    "OG.3.4": (["Fonds de participation des habitants", "Éducation aux médias", "Soutien aux collectifs d'habitants",
                "Conseil citoyen"],
               ["communes", "Communauté de communes Cœur d'Ostrevent", "Maison de la Jeunesse"]),
    "OG.4.1": (["Médiation sociale de proximité", "Place des femmes dans l'espace public",
                "Sorties familiales hors du quartier"],
               ["AFEJI Prévention spécialisée", "communes", "Maison de la Jeunesse"]),
    "OG.4.2": (["Soutien à la parentalité", "Rencontres police-population", "Accompagnement des jeunes en rupture"],
               ["AFEJI Prévention spécialisée", "ccas", "communes", "Maison de la Jeunesse"]),
    "OG.4.3": (["Permanences d'accès au droit des victimes", "Sensibilisation aux violences intrafamiliales",
                "Groupe de parole femmes victimes"],
               ["CIDFF du Nord", "France Victimes 59", "ccas"]),
}
POIDS_OBJECTIFS = {"OG.1.1": 9, "OG.1.2": 6, "OG.2.1": 6, "OG.2.2": 4, "OG.3.1": 9, "OG.3.2": 5, "OG.3.3": 10,
                   "OG.3.4": 6, "OG.4.1": 6, "OG.4.2": 6, "OG.4.3": 4}


@dataclass
class Cpo:
    reference: str
    porteur: str
    debut: int
    fin: int
    actions: list[tuple[str, str, int]]  # (objectif, intitulé, BOP 147 per year)
    cohorte: dict | None = None          # beneficiary follow-up: identifier format, entrants, ages, women share


# CPO: the seed asks for ≥ 50 % of conventions under CPO, "notamment pour les associations de proximité et les
# PRE"; a centre social's CPO covers several of its actions, each a dossier of its own every year.
CPOS = [
    Cpo("CPO-CCCO-2024-01", "Mission Locale du Douaisis", 2024, 2026,
        [("OG.1.1", "Parcours vers l'emploi des jeunes des quartiers", 24000)],
        {"id": "ML-{aa}-{n:05d}", "entrants": (118, 126), "ages": (16, 25), "femmes": 0.46}),
    Cpo("CPO-CCCO-2024-02", "PLIE du Douaisis", 2024, 2026,
        [("OG.1.1", "Accompagnement renforcé vers l'emploi des allocataires du RSA", 20000)],
        {"id": "PLIE{aa}-{n:04d}", "entrants": (64, 70), "ages": (26, 62), "femmes": 0.52}),
    Cpo("CPO-CCCO-2024-03", "EVS les Galibots", 2024, 2025,
        [("OG.1.2", "Pôle insertion : remobilisation socio-professionnelle", 9000),
         ("OG.2.2", "Jardins partagés de la cité du Champ Fleuri", 4000),
         ("OG.3.4", "Accompagnement des collectifs d'habitants", 4500)],
        {"id": "GAL-{aaaa}-{n:03d}", "entrants": (26, 30), "ages": (18, 58), "femmes": 0.6}),
    Cpo("CPO-CCCO-2024-04", "CS le Phare", 2024, 2026,
        [("OG.3.3", "Accompagnement à la scolarité", 8000), ("OG.4.2", "Soutien à la parentalité", 7000),
         ("OG.3.2", "Lutte contre l'illectronisme", 5000), ("OG.3.1", "Prévention santé par les pairs", 4500),
         ("OG.3.4", "Animation du conseil de maison", 3500), ("OG.4.1", "Sorties familiales hors du quartier", 3000)]),
    Cpo("CPO-CCCO-2024-05", "CS Jean Moulin", 2024, 2026,
        [("OG.3.3", "Accompagnement à la scolarité", 7000), ("OG.4.2", "Soutien à la parentalité", 6000),
         ("OG.2.1", "Végétalisation de la cité Vuillemin", 4000), ("OG.3.4", "Coup de pouce citoyen", 3000),
         ("OG.3.1", "Ateliers nutrition et activité physique", 3500)]),
    Cpo("CPO-CCCO-2024-06", "CS Dolto", 2024, 2026,
        [("OG.3.3", "Accompagnement à la scolarité", 8000), ("OG.4.2", "Soutien à la parentalité", 7000),
         ("OG.3.2", "Parents et écrans", 4000), ("OG.4.1", "Place des femmes dans l'espace public", 5000),
         ("OG.2.2", "Repair café", 3000), ("OG.3.1", "Aller-vers pour l'accès aux soins", 5500)]),
    Cpo("CPO-CCCO-2024-07", "CS Adolphe Largiller", 2024, 2027,
        [("OG.1.2", "Remobilisation des femmes vers l'emploi", 9000), ("OG.3.3", "Accompagnement à la scolarité", 8000),
         ("OG.4.2", "Soutien à la parentalité", 6500), ("OG.4.3", "Groupe de parole femmes victimes", 4000),
         ("OG.3.2", "Accès aux droits en ligne", 4500)],
        {"id": "CSAL{aa}{n:03d}", "entrants": (32, 36), "ages": (19, 55), "femmes": 0.93}),
    Cpo("CPO-CCCO-2024-08", "Programme de Réussite Éducative Cœur d'Ostrevent", 2024, 2026,
        [("OG.3.3", "Parcours individualisés de réussite éducative", 30000),
         ("OG.3.3", "Lutte contre le décrochage scolaire précoce", 12000),
         ("OG.3.1", "Bilans de santé et suivi orthophonique des enfants du PRE", 8000),
         ("OG.4.2", "Accompagnement des parents d'enfants en rupture", 6000)]),
    Cpo("CPO-CCCO-2025-01", "Maison de la Jeunesse", 2025, 2027,
        [("OG.3.3", "Accueil jeunes et projets éducatifs", 7000), ("OG.4.1", "Médiation par les pairs", 5000),
         ("OG.3.4", "Éducation aux médias", 3500)]),
    Cpo("CPO-CCCO-2025-02", "France Victimes 59", 2025, 2027,
        [("OG.4.3", "Permanences d'accès au droit des victimes", 9000)]),
]


@dataclass
class Ligne:
    financeur: str
    nature: str
    demande: float
    accorde: float | None
    statut: str
    casse: dict = field(default_factory=dict)  # deliberate breach: ERREUR marker and the values to write


@dataclass
class Dossier:
    numero: str
    annee: int
    porteur: Porteur
    objectif: str
    intitule: str
    qpv_cibles: str
    mode: str
    cpo: Cpo | None = None
    lignes: list[Ligne] = field(default_factory=list)
    cout_total: float = 0.0

    @property
    def accorde(self) -> bool:
        return any(lg.statut == "accorde" for lg in self.lignes)

    @property
    def total_accorde(self) -> float:
        return sum(lg.accorde or 0 for lg in self.lignes)


class Programmation:
    def __init__(self, cfg: Config, rng: random.Random):
        self.cfg, self.rng = cfg, rng
        self.porteurs = {nom: Porteur(nom, commune, nature) for nom, commune, nature in PORTEURS}
        for p in self.porteurs.values():
            p.siret = self._siret(p) if (p.nature != "association" or rng.random() < 0.85) else ""
        self.dossiers: dict[int, list[Dossier]] = {}

    def _siret(self, p: Porteur) -> str:
        """SIREN with its own Luhn key (communes 21 + dept + commune, CCAS 26..., EPCI from config)."""
        if p.nature == "epci":
            siren = self.cfg.siren
        elif p.nature == "commune":
            insee = self.cfg.code_commune(p.commune)
            siren = luhn_complete("21" + insee[:2] + "0" + insee[2:])
        elif p.nature == "ccas":
            siren = luhn_complete("26" + self.cfg.territoire["departement"] + f"{self.rng.randint(0, 9999):04d}")
        else:
            siren = luhn_complete(self.rng.choice("34578") + f"{self.rng.randint(0, 9999999):07d}")
        siret = luhn_complete(siren + f"{self.rng.randint(1, 99):04d}")
        assert len(siret) == 14 and luhn_ok(siren), siret
        return siret

    def _qpv_cibles(self, p: Porteur) -> str:
        if p.commune:
            return ";".join(self.cfg.qpv_de_commune(p.commune))
        if self.rng.random() < 0.5:
            return "TOUS"
        return ";".join(sorted(self.rng.sample(self.cfg.codes_qpv, self.rng.randint(2, 4))))

    def _porteur_aap(self, objectif: str) -> Porteur:
        choix = self.rng.choice(AAP[objectif][1])
        choix = {"communes": self.rng.choice(COMMUNES), "ccas": self.rng.choice(CCAS)}.get(choix, choix)
        return self.porteurs[choix]

    def generer(self) -> None:
        precedents: list[Dossier] = []
        for annee in ANNEES:
            dossiers = [self._dossier(annee, self.porteurs[c.porteur], og, titre, "CPO", cpo=c, bop=bop)
                        for c in CPOS if c.debut <= annee <= c.fin for og, titre, bop in c.actions]
            deja = {(d.porteur.nom, d.intitule) for d in dossiers}
            for ancien in precedents:  # most AAP actions are renewed the next year
                cle = (ancien.porteur.nom, ancien.intitule)
                if ancien.mode == "AAP" and self.rng.random() < 0.7 and cle not in deja:
                    dossiers.append(self._dossier(annee, ancien.porteur, ancien.objectif, ancien.intitule, "AAP",
                                                  qpv=ancien.qpv_cibles))
                    deja.add(cle)
            cible_aap, fil = (56, 9) if annee == 2024 else (58, 10)
            def compte(mode: str, dossiers: list = dossiers) -> int:
                return sum(d.mode == mode for d in dossiers)

            while compte("AAP") < cible_aap or compte("fil_de_l_eau") < fil:
                mode = "AAP" if compte("AAP") < cible_aap else "fil_de_l_eau"
                objectif = self.rng.choices(list(POIDS_OBJECTIFS), weights=list(POIDS_OBJECTIFS.values()))[0]
                porteur = self._porteur_aap(objectif)
                intitule = self.rng.choice(AAP[objectif][0])
                if (porteur.nom, intitule) in deja:
                    continue
                deja.add((porteur.nom, intitule))
                dossiers.append(self._dossier(annee, porteur, objectif, intitule, mode))
            self._numeroter(annee, dossiers)
            self.dossiers[annee] = dossiers
            precedents = dossiers

    def _numeroter(self, annee: int, dossiers: list[Dossier]) -> None:
        """Platform numbers are not consecutive; dossiers programmed over the year come last."""
        ordre = [d for d in dossiers if d.mode != "fil_de_l_eau"]
        self.rng.shuffle(ordre)
        ordre += [d for d in dossiers if d.mode == "fil_de_l_eau"]
        n = self.rng.randint(8, 30)
        for d in ordre:
            d.numero = f"{annee}-{n:05d}"
            n += self.rng.choice([1, 1, 1, 2, 3, 5])
        dossiers[:] = ordre

    def _dossier(self, annee, porteur, objectif, intitule, mode, cpo=None, bop=None, qpv=None) -> Dossier:
        rng = self.rng
        d = Dossier("", annee, porteur, objectif, intitule, qpv or self._qpv_cibles(porteur), mode, cpo)
        if bop is None:
            bop = rng.choice([2000, 2500, 3000, 4000, 4500, 5000, 6000, 7000, 8000, 10000])
            if mode == "fil_de_l_eau":
                bop = rng.choice([1000, 1500, 2000, 2500, 3000])
        else:
            bop = round(bop * (1.0 if annee == cpo.debut else 1.02), -2)  # CPO amounts indexed after year 1
        financements = []
        if cpo or mode == "fil_de_l_eau" or rng.random() < 0.93:
            financements.append(("etat_bop147", "specifique", bop))
        if mode != "fil_de_l_eau" or rng.random() < 0.3:
            self._cofinancements(d, bop, financements)
        if not financements:
            financements.append(("epci", "specifique", bop))
        statut = "accorde"
        if not cpo:
            statut = rng.choices(["accorde", "refuse", "en_instruction", "abandonne"],
                                 [88, 4, 6 if mode == "fil_de_l_eau" or annee == 2025 else 2, 2])[0]
        for financeur, nature, montant in financements:
            s = statut
            if s == "accorde" and not cpo and financeur not in ("etat_bop147", "epci") and rng.random() < 0.06:
                s = "refuse"  # one co-financer said no: the action goes on with the others
            accorde = {"accorde": float(round(montant * rng.choice([1, 1, 1, 1, 0.9, 0.8]), -2)),
                       "refuse": rng.choice([0.0, None]), "en_instruction": None, "abandonne": None}[s]
            if cpo:
                accorde = float(montant)
            d.lignes.append(Ligne(financeur, nature, float(montant), accorde, s))
        d.cout_total = float(round(sum(lg.demande for lg in d.lignes) * rng.uniform(1.08, 1.6), -1))
        return d

    def _cofinancements(self, d: Dossier, bop: float, out: list) -> None:
        rng, og = self.rng, d.objectif
        part = lambda lo, hi: round(bop * rng.uniform(lo, hi), -2) or 500
        if rng.random() < 0.8:
            out.append(("epci", "specifique", part(0.3, 0.9)))
        if d.porteur.nature == "commune":
            out.append(("commune", "droit_commun", part(0.5, 1.5)))
        elif d.porteur.commune and rng.random() < 0.6:
            out.append(("commune", rng.choice(["specifique", "droit_commun"]), part(0.2, 0.7)))
        if og.startswith("OG.1") and rng.random() < 0.35:
            out.append(("region", "specifique", part(0.4, 1.0)))
        if og in ("OG.1.1", "OG.1.2", "OG.4.2") and rng.random() < 0.3:
            out.append(("departement", "droit_commun", part(0.3, 0.9)))
        if og in ("OG.3.3", "OG.4.2", "OG.3.4") and rng.random() < 0.35:
            out.append(("caf", "droit_commun", part(0.3, 0.8)))
        if og == "OG.3.1" and rng.random() < 0.5:
            out.append(("ars", "droit_commun", part(0.4, 1.0)))
        if og in ("OG.2.1", "OG.4.1") and rng.random() < 0.3:
            out.append(("bailleur", "specifique", part(0.2, 0.6)))
        if og == "OG.3.3" and d.cpo and rng.random() < 0.3:
            out.append(("etat_autre", "droit_commun", part(0.2, 0.5)))  # Éducation nationale (cités éducatives)

    # --- files -------------------------------------------------------------------------------------

    @staticmethod
    def verse(d: Dossier, lg: Ligne) -> float | None:
        """What was paid when the file was exported, by the convention the demo keeps (no draw: the other values
        of the inbox do not move): a CPO's annual instalment in full, an advance of 80 % on any other granted
        line, the balance being paid on the action's report; nothing on a line not granted."""
        if lg.statut != "accorde" or not lg.accorde:
            return None
        return lg.accorde if d.cpo else round(0.8 * lg.accorde, 2)

    def _ligne(self, d: Dossier, lg: Ligne) -> dict:
        c = d.cpo
        return {"N° dossier": d.numero, "Année": d.annee, "Porteur": d.porteur.nom, "SIRET": d.porteur.siret,
                "Intitulé de l'action": d.intitule, "Code objectif": d.objectif, "QPV cibles": d.qpv_cibles,
                "Mode financement": d.mode, "Référence CPO": c.reference if c else None,
                "CPO année début": c.debut if c else None, "CPO année fin": c.fin if c else None,
                "Financeur": lg.financeur, "Nature crédit": lg.nature, "Montant demandé (€)": Euros(lg.demande),
                "Montant accordé (€)": None if lg.accorde is None else Euros(lg.accorde), "Statut": lg.statut,
                "Coût total action (€)": Euros(d.cout_total),
                "Montant versé (€)": None if (v := self.verse(d, lg)) is None else Euros(v)}

    def ecrire(self, boite: Boite) -> None:
        for annee, dossiers in self.dossiers.items():
            self._casser(annee, dossiers)
            plateforme = [r for d in dossiers if d.mode != "fil_de_l_eau" for r in self._lignes(d)]
            fil = [r for d in dossiers if d.mode == "fil_de_l_eau" for r in self._lignes(d)]
            boite.xlsx(annee, f"programmation_{annee}_dauphin.xlsx", {"Export Dauphin": plateforme})
            # typed by the chargée de mission: her own header for the title (contract name once normalised), and no
            # payments (the platform records those)
            fil = [{("Intitulé action" if k == "Intitulé de l'action" else k): v for k, v in r.items()
                    if k != "Montant versé (€)"} for r in fil]
            boite.csv(annee, f"programmation_{annee}_fil_de_l_eau.csv", fil, FormatFr(" " if annee == 2024 else NBSP))

    def _lignes(self, d: Dossier) -> list[dict]:
        rows = []
        for lg in d.lignes:
            row = self._ligne(d, lg)
            row.update(lg.casse)
            rows.append(row)
        return rows

    def _casser(self, annee: int, dossiers: list[Dossier]) -> None:
        """2-4 rows per year, each breaking exactly one rule; dossier-wide fields only on one-row dossiers."""
        rng = self.rng
        solo = [d for d in dossiers if len(d.lignes) == 1 and d.accorde and not d.cpo]
        plateforme = [d for d in solo if d.mode == "AAP"]
        fil = [d for d in solo if d.mode == "fil_de_l_eau"]
        multi = [d for d in dossiers if len(d.lignes) >= 3 and d.accorde and not d.cpo and d.mode == "AAP"]
        cpos = [d for d in dossiers if d.cpo and len(d.lignes) >= 2]

        def marque(lg: Ligne, colonne: str, regle: str, **valeurs) -> None:
            lg.casse = {ERREUR: (colonne, regle), **valeurs}

        if annee == 2024:
            d = rng.choice(plateforme)
            marque(d.lignes[0], "code_objectif", "objectif_inconnu", **{"Code objectif": "OG.5.1"})
            d = rng.choice([x for x in multi if x.porteur.siret])
            siret = d.porteur.siret
            marque(d.lignes[1], "siret", "siret_invalide", SIRET=siret[:-1] + str((int(siret[-1]) + 3) % 10))
            d = rng.choice([x for x in multi if x is not d])
            lg = next(lg for lg in d.lignes if lg.financeur not in ("etat_bop147",) and lg.statut == "accorde")
            marque(lg, "montant_accorde", "statut_montant", Statut="refuse")
            d = rng.choice(fil)  # typed the BOP amount as the action's cost
            marque(d.lignes[0], "cout_total_action", "cout_total",
                   **{"Coût total action (€)": Euros(d.lignes[0].accorde - 500)})
        else:
            d = rng.choice(multi)
            lg = next(lg for lg in d.lignes if lg.financeur == "etat_bop147")
            marque(lg, "nature_credit", "bop147_specifique", **{"Nature crédit": "droit_commun"})
            d1, d2 = rng.sample(cpos, 2)
            marque(d1.lignes[1], "cpo_annee_fin", "cpo_incomplet", **{"CPO année fin": None})
            marque(d2.lignes[-1], "cpo_annee_fin", "cpo_periode", **{"CPO année fin": 2030})
            d = rng.choice([x for x in dossiers if x.mode == "fil_de_l_eau" and x.accorde])
            double = Ligne(d.lignes[0].financeur, d.lignes[0].nature, d.lignes[0].demande, d.lignes[0].accorde,
                           d.lignes[0].statut, {ERREUR: ("numero_dossier", "cle_dupliquee")})  # pasted twice
            d.lignes.append(double)
            d.cout_total = max(d.cout_total, float(round(d.total_accorde + 100, -2)))

    def resume(self) -> dict:
        out = {}
        for annee, dossiers in self.dossiers.items():
            bop = sum(lg.accorde or 0 for d in dossiers for lg in d.lignes
                      if lg.financeur == "etat_bop147" and lg.statut == "accorde" and not lg.casse)
            out[annee] = {"dossiers": len(dossiers), "cpo": sum(d.mode == "CPO" for d in dossiers),
                          "bop147": bop, "references_cpo": len({d.cpo.reference for d in dossiers if d.cpo})}
        return out


# =====================================================================================================
# bilans_actions
# =====================================================================================================

# Beneficiary counts per objective (an employment action follows dozens, a health day reaches hundreds).
EFFECTIFS = {"OG.1.1": (15, 140), "OG.1.2": (10, 60), "OG.2.1": (30, 300), "OG.2.2": (20, 200), "OG.3.1": (30, 400),
             "OG.3.2": (15, 150), "OG.3.3": (20, 260), "OG.3.4": (20, 300), "OG.4.1": (30, 400), "OG.4.2": (10, 120),
             "OG.4.3": (10, 80)}
COMMENTAIRES = ["", "", "", "", "Action reconduite", "Public masculin difficile à mobiliser",
                "Report d'une partie des séances au 1er trimestre", "Partenariat renforcé avec le collège",
                "Fréquentation en hausse"]


def bilan(rng: random.Random, d: Dossier, annee_action: int, realisation: str | None = None) -> dict:
    realisation = realisation or rng.choices(["realisee", "partielle", "non_realisee"], [86, 12, 2])[0]
    lo, hi = EFFECTIFS[d.objectif]
    if d.cpo and d.cpo.cohorte:
        lo, hi = d.cpo.cohorte["entrants"][0] - 10, d.cpo.cohorte["entrants"][1] + 15
    total = 0 if realisation == "non_realisee" else rng.randint(lo, hi)
    if realisation == "partielle":
        total = max(lo // 2, round(total * rng.uniform(0.5, 0.8)))
    part_f = rng.uniform(0.85, 0.97) if d.objectif == "OG.4.3" or "femmes" in d.intitule else rng.uniform(0.4, 0.72)
    femmes = round(total * part_f)
    hommes = total - femmes - (rng.randint(1, 3) if total > 40 and rng.random() < 0.25 else 0)
    jeunes = (1.0 if d.porteur.nom == "Mission Locale du Douaisis" else
              rng.uniform(0.65, 0.95) if d.objectif == "OG.3.3" else rng.uniform(0.1, 0.55))
    cout = d.cout_total
    depenses = {"realisee": cout * rng.uniform(0.85, 1.02), "partielle": cout * rng.uniform(0.45, 0.8),
                "non_realisee": cout * rng.uniform(0.0, 0.08)}[realisation]
    return {"N° dossier": d.numero, "Année action": annee_action, "Réalisation": realisation,
            "Bénéficiaires total": total, "Bénéficiaires femmes": femmes, "Bénéficiaires hommes": hommes,
            "Bénéficiaires résidents QPV": round(total * rng.uniform(0.55, 0.95)),
            "Bénéficiaires moins 26 ans": round(total * jeunes),
            "Dépenses réalisées (€)": Euros(round(depenses, -1)),
            "Commentaire": rng.choice(COMMENTAIRES) or None}


def bilans_actions(prog: Programmation, boite: Boite, rng: random.Random) -> int:
    # a dossier with a deliberately broken row is left out: its report would fail for another reason
    accordes = {a: [d for d in prog.dossiers[a] if d.accorde and not any(lg.casse for lg in d.lignes)]
                for a in ANNEES}
    premiers = accordes[2024][:]
    rng.shuffle(premiers)
    precoces = premiers[: len(premiers) // 3]
    provisoires = [d for d in precoces[:2]]  # interim reports in 2024, final ones in 2025 (later replaces)
    rapports = {2024: [bilan(rng, d, 2024, "partielle" if d in provisoires else None) for d in precoces]}
    tardifs = [d for d in premiers[len(premiers) // 3:] if rng.random() < 0.88] + provisoires
    recents = [d for d in accordes[2025] if rng.random() < 0.25]
    rapports[2025] = [bilan(rng, d, 2024, "realisee" if d in provisoires else None) for d in tardifs]
    rapports[2025] += [bilan(rng, d, 2025) for d in recents]
    total = 0
    for annee, rows in rapports.items():
        rows.sort(key=lambda r: r["N° dossier"])
        par_numero = {d.numero: d for a in ANNEES for d in prog.dossiers[a]}
        groupes = {"centres_sociaux": [], "communes": [], "insertion": [], "dauphin": []}
        for r in rows:
            p = par_numero[r["N° dossier"]].porteur
            if p.nom.startswith(("CS ", "EVS ")) or p.nom == "Maison de la Jeunesse":
                groupes["centres_sociaux"].append(r)
            elif p.nature in ("commune", "ccas"):
                groupes["communes"].append(r)
            elif annee == 2025 and p.nom in INSERTION:
                groupes["insertion"].append(r)
            else:
                groupes["dauphin"].append(r)
        total += len(rows)
        _casser_bilans(annee, groupes, rng)
        boite.xlsx(annee, f"bilans_actions_{annee}_dauphin.xlsx", {"Comptes rendus": groupes["dauphin"]})
        boite.csv(annee, f"bilans_actions_{annee}_centres_sociaux.csv",
                  [{_canonique(k): v for k, v in r.items()} for r in groupes["centres_sociaux"]])
        boite.csv(annee, f"bilans_actions_{annee}_communes.csv", groupes["communes"], FormatFr())
        if groupes["insertion"]:
            boite.xlsx(annee, f"bilans_actions_{annee}_insertion.xlsx", {"Bilans": groupes["insertion"]})
    return total


INSERTION = ("Mission Locale du Douaisis", "PLIE du Douaisis", "Cœur d'Ostrevent Insertion")  # own file in 2025


def _canonique(header: str) -> str:
    """The porteurs' shared template uses the contract's names as headers."""
    if header == ERREUR:
        return header
    return {"N° dossier": "numero_dossier", "Année action": "annee_action"}.get(header, slug(header.split(" (")[0]))


def _casser_bilans(annee: int, groupes: dict[str, list[dict]], rng: random.Random) -> None:
    x = rng.choice([r for r in groupes["dauphin"] if r["Bénéficiaires total"] > 20])
    if annee == 2024:
        casser(x, "beneficiaires_femmes", "beneficiaires_incoherents",
               **{"Bénéficiaires femmes": x["Bénéficiaires total"] + 12})
        y = rng.choice(groupes["communes"])
        casser(y, "realisation", "valeur_autorisee", **{"Réalisation": "terminée"})
    else:  # femmes and hommes each fine, their sum is not
        casser(x, "beneficiaires_hommes", "beneficiaires_incoherents",
               **{"Bénéficiaires hommes": x["Bénéficiaires total"] - x["Bénéficiaires femmes"] + 9})
        y = rng.choice([r for r in groupes["communes"] if r["Bénéficiaires moins 26 ans"] > 10])
        casser(y, "beneficiaires_moins_26_ans", "type_entier",
               **{"Bénéficiaires moins 26 ans": float(y["Bénéficiaires moins 26 ans"]) + 0.5})
    modele = dict(rng.choice(groupes["centres_sociaux"]))
    modele.pop(ERREUR, None)
    groupes["centres_sociaux"].append(casser(modele, "numero_dossier", "dossier_inconnu",
                                             **{"N° dossier": f"{annee}-00999"}))


# =====================================================================================================
# engagements
# =====================================================================================================

# (objectif or axe, engagement, indicateur, unité, cible, taux de réalisation, détail par QPV, droit commun €)
# Kinds of commitments from seed 002 (IV.12) and seed 001 (the three actions under enhanced follow-up).
ENGAGEMENTS = {
    "Préfecture du Nord": [
        ("OG.3.3", "Déploiement du Pass Sport auprès de 100 % des jeunes éligibles",
         "part des jeunes éligibles des QPV bénéficiaires du Pass Sport", "pourcentage", 100, (0.38, 0.55), True, None),
        ("OG.3.3", "Déploiement du Pass Culture auprès de 100 % des jeunes éligibles",
         "part des jeunes de 18 ans des QPV ayant activé le Pass Culture", "pourcentage", 100, (0.72, 0.86), False,
         None),
        ("OG.3.4", "Déploiement du SNU pour les jeunes du territoire",
         "jeunes des QPV ayant effectué un séjour de cohésion SNU", "nombre", 40, (0.5, 0.85), False, None),
        ("4", "Postes d'adultes-relais dans les quartiers", "postes d'adultes-relais financés", "nombre", 8,
         (0.85, 1.0), False, None)],
    "France Travail": [
        ("OG.1.1", "Accompagnement intensif des demandeurs d'emploi des QPV",
         "demandeurs d'emploi QPV accompagnés", "nombre", 640, (0.85, 1.05), True, 410000),
        ("OG.1.1", "Part des résidents QPV dans les contrats aidés (PEC)",
         "part des résidents QPV parmi les entrées en PEC", "pourcentage", 30, (0.8, 1.1), False, None)],
    "CAF du Nord": [
        ("OG.1.1", "Places en crèche à vocation d'insertion professionnelle (AVIP)", "places AVIP ouvertes",
         "nombre", 10, (0.7, 1.0), False, None),
        ("OG.4.2", "Soutien aux actions de parentalité (REAAP, LAEP)", "actions de parentalité financées en QPV",
         "nombre", 12, (0.8, 1.1), False, 96000),
        ("3", "Animation globale des centres sociaux", "centres sociaux et EVS agréés financés", "nombre", 6,
         (1.0, 1.0), False, 385000)],
    "CPAM Lille-Douai": [
        ("OG.3.1", "Bilans de santé précarité (score EPICE)", "bilans de santé précarité (score EPICE) réalisés",
         "nombre", 350, (0.8, 1.05), False, None),
        ("OG.3.1", "Accès aux droits : complémentaire santé solidaire", "dossiers C2S instruits avec les CS",
         "nombre", 480, (0.85, 1.1), False, None)],
    "ARS Hauts-de-France": [
        ("OG.3.1", "Contrat local de santé : prévention dans les QPV", "actions de prévention financées",
         "nombre", 12, (0.75, 1.0), False, 85000),
        ("OG.3.1", "Dépistage organisé des cancers en aller-vers", "personnes dépistées résidant en QPV",
         "nombre", 400, (0.6, 0.95), False, None)],
    "Éducation nationale": [
        ("OG.3.3", "Faciliter l'accès aux stages pour les collégiens des QPV",
         "part des élèves de 3e des QPV ayant trouvé un stage", "pourcentage", 100, (0.86, 0.97), False, None),
        ("OG.3.3", "Cordées de la réussite", "élèves des QPV en cordées de la réussite", "nombre", 120,
         (0.75, 1.05), False, None),
        ("OG.3.3", "Dédoublement des classes en éducation prioritaire", "classes de GS, CP, CE1 dédoublées",
         "nombre", 46, (1.0, 1.0), False, None)],
    "Région Hauts-de-France": [
        ("OG.1.1", "Formations qualifiantes pour les demandeurs d'emploi des QPV",
         "entrées en formation de résidents QPV", "nombre", 180, (0.8, 1.1), False, 950000),
        ("OG.1.1", "Proch'Emploi : mise en relation avec les entreprises", "résidents QPV accompagnés par Proch'Emploi",
         "nombre", 60, (0.7, 1.1), False, None)],
    "Département du Nord": [
        ("OG.1.1", "Accompagnement des allocataires du RSA résidant en QPV", "allocataires RSA accompagnés",
         "nombre", 720, (0.85, 1.05), True, 1350000),
        ("OG.4.2", "Prévention spécialisée dans les quartiers", "jeunes suivis par la prévention spécialisée",
         "nombre", 150, (0.8, 1.1), False, 240000)],
    "Communauté de communes Cœur d'Ostrevent": [
        ("OG.1.1", "Clauses d'insertion dans les marchés publics", "heures d'insertion réalisées", "nombre",
         15000, (0.8, 1.2), False, None),
        ("OG.2.1", "Gestion urbaine de proximité", "diagnostics en marchant réalisés", "nombre", 2, (0.5, 1.5),
         True, None),
        ("OG.3.4", "Fonds de participation des habitants", "montant engagé pour les projets d'habitants", "euros",
         16000, (0.7, 1.0), False, None),
        ("2", "Volet social de la rénovation des cités minières (ERBM)", "logements miniers rénovés en QPV",
         "nombre", 120, (0.6, 1.0), False, None)],
    "Mission Locale du Douaisis": [
        ("OG.1.1", "Contrat d'engagement jeune pour les jeunes des QPV", "jeunes des QPV entrés en CEJ", "nombre",
         150, (0.8, 1.1), False, None),
        ("OG.1.1", "Part des jeunes des QPV parmi les jeunes accompagnés", "part des jeunes QPV accompagnés",
         "pourcentage", 30, (0.85, 1.1), False, None)],
}
ABSENT_2025 = "ARS Hauts-de-France"  # its 2025 file never came: a realistic missing file


def engagements(cfg: Config, boite: Boite, rng: random.Random) -> int:
    populations = {q["code"]: q["population"] for q in cfg.qpv}
    total_pop = sum(populations.values())
    n = 0
    for annee in ANNEES:
        for partenaire in cfg.territoire["partenaires_attendus"]:
            nom = partenaire["nom"]
            if "engagements" not in partenaire["familles"] or (annee == 2025 and nom == ABSENT_2025):
                continue
            rows = []
            for og, engagement, indicateur, unite, cible, (lo, hi), par_qpv, droit_commun in ENGAGEMENTS[nom]:
                lieux = cfg.codes_qpv if par_qpv else [None]
                for qpv in lieux:
                    reparti = qpv and unite == "nombre" and cible >= 20  # small targets hold for each QPV
                    c = max(1.0, float(round(cible * populations[qpv] / total_pop if reparti else cible)))
                    fait = min(100.0, c * rng.uniform(lo, hi)) if unite == "pourcentage" else c * rng.uniform(lo, hi)
                    fait = round(fait, 1) if unite == "pourcentage" else float(round(fait))
                    rows.append({"Partenaire": nom, "Type partenaire": partenaire["type_partenaire"], "Année": annee,
                                 "Code objectif": og, "Engagement": engagement, "Indicateur": indicateur,
                                 "Unité": unite, "Valeur cible": c,
                                 "Valeur réalisée": None if rng.random() < 0.1 else fait, "Code QPV": qpv,
                                 "Montant droit commun (€)": Euros(droit_commun * (1 + 0.02 * (annee - 2024)))
                                 if droit_commun and not qpv else None,
                                 "Commentaire": None})
            _casser_engagements(annee, nom, rows, cfg)
            n += len(rows)
            court = cfg.territoire["nom_court"] if partenaire["type_partenaire"] == "epci" else nom
            fichier = f"engagements_{annee}_{slug(court)}"
            if partenaire["type_partenaire"] in ("etat", "operateur_etat", "sante"):
                boite.csv(annee, fichier + ".csv", rows, FormatFr(NBSP if nom != "CPAM Lille-Douai" else " "))
            elif partenaire["type_partenaire"] in ("region", "departement"):
                boite.xlsx(annee, fichier + ".xlsx", {"Engagements": rows})
            else:
                boite.csv(annee, fichier + ".csv", [{_canonique(k): v for k, v in r.items()} for r in rows])
    return n


def _casser_engagements(annee: int, nom: str, rows: list[dict], cfg: Config) -> None:
    if annee == 2024:
        if nom == "Éducation nationale":
            casser(rows[0], "valeur_realisee", "valeur_maximale", **{"Valeur réalisée": 112.0})  # typed a count
        if nom == "France Travail":  # Masny typed QM instead of QN
            r = next(r for r in rows if r["Code QPV"] == cfg.qpv_nomme("Masny"))
            casser(r, "code_qpv", "qpv_inconnu", **{"Code QPV": r["Code QPV"].replace("QN", "QM")})
        if nom == "CAF du Nord":
            rows.append(casser(dict(rows[1]), "partenaire", "cle_dupliquee"))
    else:
        if nom == "Département du Nord":
            casser(rows[-1], "code_objectif", "objectif_inconnu", **{"Code objectif": "OG.4.4"})
        if nom == "Communauté de communes Cœur d'Ostrevent":
            casser(rows[0], "annee", "annee_boite", **{"Année": 2024})  # last year's line left in the sheet
        if nom == "CPAM Lille-Douai":
            casser(rows[1], "valeur_realisee", "type_nombre", **{"Valeur réalisée": "en attente"})
        if nom == "Mission Locale du Douaisis":
            casser(rows[-1], "unite", "valeur_autorisee", **{"Unité": "%"})


# =====================================================================================================
# tfpb
# =====================================================================================================

# Where each landlord owns dwellings (QPV named as in the configuration) and its share of the QPV's social stock.
# Maisons et Cités and SIA Habitat hold the mining cités; seed 001: Lemay and Somain are entirely rental.
PATRIMOINE = {
    "Maisons et Cités": {"Aniche": 0.15, "Auberchicourt": 1.0, "Masny": 0.7, "Montigny": 0.65, "Barrois": 0.8,
                         "Lemay": 1.0, "Somain": 0.55},
    "SIA Habitat": {"Aniche": 0.25, "Masny": 0.3, "Barrois": 0.2, "Somain": 0.35},
    "Norévie": {"Aniche": 0.2, "Montigny": 0.35, "Hornaing": 0.35},
    "Partenord Habitat": {"Aniche": 0.28, "Somain": 0.1},
    "SIGH": {"Aniche": 0.12, "Hornaing": 0.65},
}
PART_LOCATIVE_SOCIALE = {"Lemay": 0.93, "Somain": 0.92}  # other QPV: drawn between 0.62 and 0.78
COUT_LOGEMENT = {"Maisons et Cités": (135, 175), "SIA Habitat": (150, 195), "Norévie": (170, 215),
                 "Partenord Habitat": (185, 240), "SIGH": (175, 225)}
SOUS_COUVERTURE = ("SIA Habitat", "Somain")  # valorisation below the abatement: the bilan's coverage alert
ACTIONS_TFPB = {
    "personnel_proximite": ["Renfort de gardiennage", "Agent de médiation en soirée", "Référent proximité dédié"],
    "formation_personnel": ["Formation des gardiens à la gestion des conflits", "Soutien psychologique des personnels"],
    "sur_entretien": ["Nettoyage renforcé des parties communes", "Sur-entretien des espaces verts",
                      "Enlèvement des tags"],
    "dechets_encombrants": ["Enlèvement des encombrants et dépôts sauvages", "Enlèvement des épaves"],
    "tranquillite": ["Vidéoprotection des accès", "Médiation nocturne", "Sécurisation des caves"],
    "concertation": ["Diagnostic en marchant avec les locataires", "Réunions de concertation avant travaux"],
    "lien_social": ["Fête des voisins", "Chantier éducatif jeunes", "Jardins au pied des logements",
                    "Soutien à l'amicale des locataires"],
    "petits_travaux": ["Remplacement des éclairages extérieurs", "Réfection des clôtures", "Embellissement des halls"],
}


def tfpb(cfg: Config, boite: Boite, rng: random.Random) -> int:
    menages = {}
    for q in cfg.qpv:
        fragment = next((f for f in PART_LOCATIVE_SOCIALE if f.lower() in q["nom"].lower()), None)
        part = PART_LOCATIVE_SOCIALE[fragment] if fragment else rng.uniform(0.62, 0.78)
        menages[q["code"]] = q["population"] / 2.45 * part  # households of 2.45 people on average
    stock = {b: {cfg.qpv_nomme(f): round(menages[cfg.qpv_nomme(f)] * s) for f, s in parts.items()}
             for b, parts in PATRIMOINE.items()}
    assert set(stock) == set(cfg.territoire["bailleurs"])
    cout = {(b, q): rng.uniform(*COUT_LOGEMENT[b]) for b in stock for q in stock[b]}
    n = 0
    for annee in ANNEES:
        indexation = 1.0 if annee == 2024 else 1.017  # 2025 revaluation of rental values
        for bailleur, logements in stock.items():
            patrimoine, actions = [], []
            for qpv, nb in logements.items():
                nb = nb - (rng.randint(0, 6) if annee == 2025 else 0)  # demolitions of the ERBM programme
                abattement = round(nb * cout[(bailleur, qpv)] * indexation)
                patrimoine.append({"bailleur": bailleur, "code_qpv": qpv, "annee": annee, "nb_logements": nb,
                                   "montant_abattement": Euros(abattement)})
                alerte = (bailleur, qpv) == (SOUS_COUVERTURE[0], cfg.qpv_nomme(SOUS_COUVERTURE[1]))
                taux = 0.81 if alerte else rng.uniform(1.0, 1.35)
                actions += _actions_tfpb(rng, bailleur, qpv, annee, abattement * taux)
            _casser_tfpb(annee, bailleur, patrimoine, actions, cfg)
            n += len(patrimoine) + len(actions)
            s = slug(bailleur)
            if bailleur == "Norévie":  # sends two CSV files, French Excel
                boite.csv(annee, f"tfpb_patrimoine_{s}.csv", patrimoine, FormatFr())
                boite.csv(annee, f"tfpb_actions_{s}.csv", actions, FormatFr())
            else:
                boite.xlsx(annee, f"tfpb_{s}_{annee}.xlsx", {"patrimoine": patrimoine, "actions": actions},
                           nommer_feuilles=True)
    return n


def _actions_tfpb(rng, bailleur, qpv, annee, valorise_total) -> list[dict]:
    nombre = rng.randint(3, 10)
    axes = rng.sample(list(ACTIONS_TFPB), min(nombre, 8)) + rng.sample(list(ACTIONS_TFPB), max(0, nombre - 8))
    poids = [rng.uniform(0.3, 1.0) * (3 if a in ("personnel_proximite", "sur_entretien") else 1) for a in axes]
    montants = [round(valorise_total * p / sum(poids)) for p in poids]
    montants[0] += round(valorise_total) - sum(montants)
    return [{"bailleur": bailleur, "code_qpv": qpv, "annee": annee, "axe": axe,
             "intitule_action": rng.choice(ACTIONS_TFPB[axe]), "montant_valorise": Euros(m),
             "cofinancement": Euros(round(m * rng.uniform(0.1, 0.6), -1)) if rng.random() < 0.3 else None}
            for axe, m in zip(axes, montants)]


def _casser_tfpb(annee, bailleur, patrimoine, actions, cfg: Config) -> None:
    hors = cfg.qpv_nomme("Barrois")
    if bailleur == "Norévie":  # an action declared in a QPV where Norévie owns nothing
        actions.append(casser(dict(actions[0]), "code_qpv", "patrimoine_absent", code_qpv=hors,
                              intitule_action="Fête des voisins", montant_valorise=Euros(1200)))
    if annee == 2024 and bailleur == "Partenord Habitat":
        casser(actions[2], "montant_valorise", "valeur_minimale", montant_valorise=Euros(-1500))  # an avoir
    if annee == 2024 and bailleur == "Maisons et Cités":  # a QPV of the 2015 geography that no longer exists
        patrimoine.append(casser(dict(patrimoine[0]), "code_qpv", "qpv_inconnu", code_qpv="QP059041",
                                 nb_logements=64, montant_abattement=Euros(9800)))
    if annee == 2025 and bailleur == "SIGH":
        casser(actions[1], "montant_valorise", "type_nombre", montant_valorise="à préciser")
        casser(actions[3], "intitule_action", "valeur_obligatoire", intitule_action=None)
    if annee == 2025 and bailleur == "Maisons et Cités":
        casser(actions[4], "annee", "annee_boite", annee=2024)


# =====================================================================================================
# indicateurs
# =====================================================================================================

# Seed 001, II.1 (« Chiffres clés des QP du contrat de ville », juin 2023): millésime, then per level
# (qpv_epci, qpv_departement, epci) the printed value, and the count on the CCCO's QP where printed.
# None = the seed leaves the cell empty (or prints an evolution there, as for the population).
SEED = {
    "population": (2018, 12109, None, None, None),
    "part_moins_15_ans": (2018, 23.0, 25.0, 20.0, 2740),
    "indice_jeunesse": (2018, 1.5, 2.0, 1.1, None),
    "indice_evolution_agees": (2018, 1.8, 2.3, 1.9, None),
    "familles_monoparentales_familles": (2018, 43.3, 44.9, 30.8, 767),
    "familles_monoparentales_menages": (2018, 20.8, 18.3, 16.8, 767),
    "menages_une_personne": (2018, 31.0, 39.0, 28.0, 1520),
    "taux_pauvrete": (2020, 37.0, 44.0, 20.0, 4500),
    "menages_minima_sociaux": (2021, 21.2, 22.1, 10.1, 1479),
    "part_c2s": (2022, 33.7, 37.8, None, 3781),
    "scolarisation_filles_15_24": (2019, 50.3, 59.7, 60.0, None),
    "lyceens_filiere_pro": (2020, 59.0, 48.0, None, 310),
    "part_sans_diplome": (2019, 46.0, 44.0, 33.0, 4270),
    "part_bac2_plus": (2019, 8.0, 16.0, 19.0, None),
    "taux_emploi_15_64": (2019, 42.2, 40.8, 55.6, 3136),
    "taux_emploi_femmes": (2019, 37.2, 35.8, 51.7, None),
    "taux_emploi_precaire": (2019, 18.0, 26.0, 17.0, 870),
}
# Previous millésime (plausible; consistent with the seed's « évolution » column where it prints one:
# population −2,4 %, pauvreté −2 points, minima sociaux +11,1 %, C2S +18,9 % between 2020 and 2022;
# the CCCO's 19,9 % poverty rate in 2019 is in the seed's text).
PRECEDENT = {
    "population": (2013, 12407, None, None),
    "part_moins_15_ans": (2013, 23.6, 25.4, 20.3),
    "indice_jeunesse": (2013, 1.6, 2.1, 1.2),
    "indice_evolution_agees": (2013, 1.5, 2.0, 1.6),
    "familles_monoparentales_familles": (2013, 40.8, 43.1, 28.9),
    "familles_monoparentales_menages": (2013, 19.6, 17.6, 15.7),
    "menages_une_personne": (2013, 29.5, 37.8, 26.4),
    "taux_pauvrete": (2019, 39.0, 45.1, 19.9),
    "menages_minima_sociaux": (2019, 19.1, 21.4, 9.6),
    "part_c2s": (2020, 28.3, 33.9, None),
    "scolarisation_filles_15_24": (2014, 52.4, 58.9, 59.1),
    "lyceens_filiere_pro": (2017, 61.2, 49.3, None),
    "part_sans_diplome": (2014, 49.6, 47.5, 36.1),
    "part_bac2_plus": (2014, 6.9, 13.8, 16.2),
    "taux_emploi_15_64": (2014, 40.1, 39.2, 54.0),
    "taux_emploi_femmes": (2014, 35.0, 33.9, 49.8),
    "taux_emploi_precaire": (2014, 17.2, 25.1, 16.4),
}
# Newer millésimes in the 2025 inbox (C2S arrives as CNAM's own workbook).
NOUVEAU = {"taux_pauvrete": (2021, 36.4, 43.6, 19.6), "menages_minima_sociaux": (2022, 21.8, 22.5, 10.3),
           "part_c2s": (2023, 34.9, 38.6, None)}
# Denominators where the seed prints no count (people concerned, out of 12 109 inhabitants).
DENOMINATEUR = {"scolarisation_filles_15_24": 812, "part_bac2_plus": 7920, "taux_emploi_femmes": 3764}
# How each QPV departs from the QPV average (seed 001, II.1 text): poverty and C2S twice the CCCO's in Lemay,
# Somain, Masny, Barrois, Montigny; isolated people in Masny and Auberchicourt-Écaillon; women's employment
# lowest in Hornaing, Lemay, Masny, Auberchicourt-Écaillon, Barrois; RSA in Hornaing close to the CCCO's.
PROFILS = {
    "precarite": {"Lemay": 1.22, "Somain": 1.16, "Masny": 1.12, "Barrois": 1.08, "Montigny": 1.05,
                  "Auberchicourt": 0.94, "Aniche": 0.85, "Hornaing": 0.8},
    "emploi": {"Hornaing": 0.84, "Lemay": 0.87, "Masny": 0.9, "Auberchicourt": 0.92, "Barrois": 0.93,
               "Somain": 0.98, "Montigny": 1.04, "Aniche": 1.12},
    "isolement": {"Masny": 1.2, "Auberchicourt": 1.17},
    "jeunesse": {"Hornaing": 1.2},
}
PROFIL_INDICATEUR = {"taux_pauvrete": "precarite", "part_c2s": "precarite", "menages_minima_sociaux": "precarite",
                     "familles_monoparentales_familles": "precarite", "familles_monoparentales_menages": "precarite",
                     "part_sans_diplome": "precarite", "taux_emploi_precaire": "precarite",
                     "lyceens_filiere_pro": "precarite", "taux_emploi_15_64": "emploi",
                     "taux_emploi_femmes": "emploi", "part_bac2_plus": "emploi",
                     "scolarisation_filles_15_24": "emploi", "menages_une_personne": "isolement",
                     "part_moins_15_ans": "jeunesse"}
SECRETS = ("scolarisation_filles_15_24", "part_bac2_plus")  # Hornaing's cell is too small (latest millésime)
INDICE_HORNAING = {"indice_jeunesse": 2.2}  # seed 001: "un indice de jeunesse nettement plus élevé (2,2)"


class Indicateurs:
    def __init__(self, cfg: Config, rng: random.Random):
        self.cfg, self.rng = cfg, rng
        self.hornaing = cfg.qpv_nomme("Hornaing")

    def _facteur(self, code: str, qpv: dict) -> float:
        profil = PROFILS.get(PROFIL_INDICATEUR.get(code, ""), {})
        base = next((v for f, v in profil.items() if f.lower() in qpv["nom"].lower()), None)
        return base * self.rng.uniform(0.97, 1.03) if base else self.rng.uniform(0.93, 1.07)

    def _repartir(self, total: int, poids: dict[str, float]) -> dict[str, int]:
        """Integers proportional to `poids` summing exactly to `total` (largest remainder)."""
        brut = {k: total * w / sum(poids.values()) for k, w in poids.items()}
        out = {k: int(v) for k, v in brut.items()}
        for k in sorted(brut, key=lambda k: brut[k] - out[k], reverse=True)[: total - sum(out.values())]:
            out[k] += 1
        return out

    def lignes(self, code: str, millesime: int, valeurs: tuple, compte: int | None,
               denominateur: int | None) -> list[dict]:
        info = self.cfg.catalogue[code]
        epci_qpv, dep, epci = valeurs
        base = {"code_indicateur": code, "libelle_indicateur": info["libelle"], "millesime": millesime,
                "unite": info["unite"], "source": f"{info['source']} {millesime}"}
        ligne = lambda niveau, geo, v, num=None, den=None, secret=None: {
            **base, "niveau_geo": niveau, "code_geo": geo, "valeur": v, "numerateur": num, "denominateur": den,
            "secret": secret}
        siren, rows = self.cfg.siren, []
        poids = {q["code"]: q["population"] * self.rng.uniform(0.95, 1.05) for q in self.cfg.qpv}
        if info["unite"] == "nombre":
            rows += [ligne("qpv", q, float(v)) for q, v in self._repartir(int(epci_qpv), poids).items()]
        elif info["unite"] == "indice":
            for q in self.cfg.qpv:
                v = INDICE_HORNAING.get(code) if q["code"] == self.hornaing and millesime == SEED[code][0] else None
                rows.append(ligne("qpv", q["code"], v or round(epci_qpv * self._facteur(code, q), 1)))
        else:
            den_total = denominateur or round(compte / (epci_qpv / 100))
            num_total = compte or round(den_total * epci_qpv / 100)
            dens = self._repartir(den_total, poids)
            secret = code in SECRETS and millesime == SEED[code][0]
            facteurs = {q["code"]: self._facteur(code, q) for q in self.cfg.qpv}
            # a withheld cell sits at the average, so the visible QPV still give the territory's rate
            visible = den_total - dens[self.hornaing]
            fixe = {self.hornaing: num_total - round(visible * epci_qpv / 100)} if secret else {}
            nums = fixe | self._repartir(num_total - sum(fixe.values()),
                                         {q: dens[q] * facteurs[q] for q in dens if q not in fixe})
            nums = {q: nums[q] for q in dens}
            visibles = [q for q in dens if not (secret and q == self.hornaing)]
            ecart = 100 * sum(nums[q] for q in visibles) / sum(dens[q] for q in visibles) - epci_qpv
            assert abs(ecart) <= 0.1, (code, millesime, ecart)
            for q in dens:
                if secret and q == self.hornaing:
                    rows.append(ligne("qpv", q, None, secret="oui"))
                else:
                    rows.append(ligne("qpv", q, round(100 * nums[q] / dens[q], 1), float(nums[q]), float(dens[q])))
            assert abs(100 * num_total / den_total - epci_qpv) <= 0.1, code
            rows.insert(0, ligne("qpv_epci", siren, epci_qpv, float(num_total), float(den_total)))
        if info["unite"] != "pourcentage":
            rows.insert(0, ligne("qpv_epci", siren, epci_qpv))
        if dep is not None:
            rows.insert(1, ligne("qpv_departement", self.cfg.territoire["departement"], dep))
        if epci is not None:
            rows.insert(2 if dep is not None else 1, ligne("epci", siren, epci))
        return rows

    def generer(self) -> dict[str, list[dict]]:
        """The observatory's rows per millésime family: 'base' (both export years) and 'nouveau' (2025 only)."""
        base, nouveau = [], {}
        for code in self.cfg.catalogue:
            millesime, v_qe, v_dep, v_epci, compte = SEED[code]
            avant = PRECEDENT[code]
            compte_avant = round(compte / 1.189) if code == "part_c2s" else None  # seed: +18,9 % of people
            den_seed = compte / (v_qe / 100) if compte else DENOMINATEUR.get(code, SEED["population"][1])
            den_avant = (round(compte_avant / (avant[1] / 100)) if compte_avant
                         else round(den_seed * self.rng.uniform(0.97, 1.03)))
            base += self.lignes(code, avant[0], avant[1:], compte_avant, den_avant)
            base += self.lignes(code, millesime, (v_qe, v_dep, v_epci), compte, DENOMINATEUR.get(code))
            if code in NOUVEAU:
                m, *vals = NOUVEAU[code]
                den = round(compte / (v_qe / 100) * self.rng.uniform(0.99, 1.02))
                nouveau[code] = self.lignes(code, m, tuple(vals), None, den)
        return {"base": base, **nouveau}

    def communes(self, rng: random.Random) -> list[dict]:
        """Poverty rate of the communes that host a QPV (Filosofi 2020): the export's comparison rows."""
        info, millesime = self.cfg.catalogue["taux_pauvrete"], SEED["taux_pauvrete"][0]
        hotes = sorted({c for q in self.cfg.qpv for c in q["communes"]})
        rows = []
        for c in self.cfg.territoire["communes"]:
            if c["code_insee"] not in hotes:
                continue
            den = round(c["population"] * rng.uniform(0.95, 0.98))
            num = round(den * rng.uniform(0.14, 0.27))
            rows.append({"code_indicateur": "taux_pauvrete", "libelle_indicateur": info["libelle"],
                         "niveau_geo": "commune", "code_geo": c["code_insee"], "millesime": millesime,
                         "valeur": round(100 * num / den, 1), "numerateur": float(num), "denominateur": float(den),
                         "unite": "pourcentage", "source": f"{info['source']} {millesime}", "secret": None,
                         "_nom": c["nom"]})
        return rows


COLONNES_INDICATEURS = ["code_indicateur", "libelle_indicateur", "niveau_geo", "code_geo", "millesime", "valeur",
                        "numerateur", "denominateur", "unite", "source", "secret"]


def indicateurs(cfg: Config, boite: Boite, rng: random.Random) -> int:
    ind = Indicateurs(cfg, rng)
    lots = ind.generer()
    communes = ind.communes(rng)
    n = 0
    for annee in ANNEES:
        rows = [dict(r) for r in lots["base"]]
        if annee == 2025:
            rows += [dict(r) for code in ("taux_pauvrete", "menages_minima_sociaux") for r in lots[code]]
        lignes_communes = [dict(r) for r in communes]
        par_nom = {r.pop("_nom"): r for r in lignes_communes}
        if annee == 2024:
            r = par_nom["Somain"]  # the export's rounding bug on one commune
            casser(r, "valeur", "ratio_incoherent", valeur=round(r["valeur"] + 3.5, 1))
            casser(par_nom["Écaillon"], "code_geo", "code_geo_invalide", code_geo="5918")
        else:
            casser(par_nom["Rieulay"], "valeur", "secret_avec_valeur", secret="oui", numerateur=None,
                   denominateur=None)
            casser(par_nom["Hornaing"], "valeur", "type_nombre", valeur="n.d.", numerateur=None, denominateur=None)
        rows += lignes_communes
        intrus = dict(rows[0], code_indicateur="taux_chomage_jeunes",
                      libelle_indicateur="Taux de chômage des 15-24 ans",
                      unite="pourcentage", valeur=31.5, numerateur=None, denominateur=None, source="INSEE RP 2019",
                      millesime=2019)
        rows.append(casser(intrus, "code_indicateur", "indicateur_inconnu"))
        rows = [{c: r[c] for c in COLONNES_INDICATEURS} | ({ERREUR: r[ERREUR]} if ERREUR in r else {}) for r in rows]
        boite.csv(annee, f"indicateurs_compas_chiffres_cles_qp_{annee}.csv", rows)
        n += len(rows)
    c2s = [{c: r[c] for c in COLONNES_INDICATEURS} for r in lots["part_c2s"]]
    boite.xlsx(2025, "indicateurs_cnam_c2s_2023.xlsx", {"C2S": c2s})
    return n + len(c2s)


# =====================================================================================================
# cohortes
# =====================================================================================================

TRANSITIONS = {  # six-monthly drift of a beneficiary's situation
    "recherche_emploi": {"emploi_transition": 24, "formation_qualifiante": 17, "emploi_durable": 10,
                         "recherche_emploi": 37, "inactif": 4, "perdu_de_vue": 8},
    "inactif": {"recherche_emploi": 42, "inactif": 30, "formation_qualifiante": 14, "perdu_de_vue": 14},
    "emploi_transition": {"emploi_durable": 36, "emploi_transition": 36, "recherche_emploi": 21, "perdu_de_vue": 7},
    "formation_qualifiante": {"emploi_durable": 18, "emploi_transition": 28, "formation_qualifiante": 30,
                              "recherche_emploi": 19, "perdu_de_vue": 5},
    "emploi_durable": {"emploi_durable": 88, "emploi_transition": 7, "perdu_de_vue": 5},
    "perdu_de_vue": {"perdu_de_vue": 100},
}
JALONS = [("entree", 0), ("6_mois", 182), ("12_mois", 365), ("24_mois", 730)]
PRENOMS = {"F": ["Emma", "Léa", "Chloé", "Manon", "Inès", "Camille", "Sarah", "Jade", "Nadia", "Laura"],
           "M": ["Lucas", "Hugo", "Nathan", "Enzo", "Théo", "Yanis", "Rayan", "Mathis", "Kevin", "Dylan"]}
NOMS = ["Lefebvre", "Dupont", "Lemaire", "Delattre", "Carpentier", "Deschamps", "Lecomte", "Dubois", "Wattel",
        "Lheureux", "Boulanger", "Caron", "Masclet", "Dhaussy", "Martin", "Petit"]
FIN = {annee: dt.date(annee, 12, 31) for annee in ANNEES}


def cohortes(cfg: Config, boite: Boite, rng: random.Random) -> tuple[int, int]:
    poids_qpv = [q["population"] for q in cfg.qpv]
    personnes, lignes = 0, 0
    for cpo in [c for c in CPOS if c.cohorte]:
        param = cpo.cohorte
        fichiers: dict[int, list[dict]] = {a: [] for a in ANNEES}
        for i_annee, annee_entree in enumerate(ANNEES):
            if annee_entree > cpo.fin:
                continue
            numero = rng.randint(3, 20)
            for _ in range(param["entrants"][i_annee] + rng.randint(-5, 5)):
                personnes += 1
                numero += rng.choice([1, 1, 2])
                ident = param["id"].format(aa=annee_entree % 100, aaaa=annee_entree, n=numero)
                entree = dt.date(annee_entree, 1, 8) + dt.timedelta(days=rng.randint(0, 325))
                age = rng.randint(*param["ages"])
                if param["ages"][0] < 26 < param["ages"][1] and rng.random() < 0.3:
                    age = rng.randint(max(18, param["ages"][0]), 25)  # many under 26 in every action
                sexe = "F" if rng.random() < param["femmes"] else rng.choices(["M", "NR"], [97, 3])[0]
                personne = {"sexe": sexe,
                            "annee_naissance": annee_entree - age - (1 if rng.random() < 0.5 else 0),
                            "code_qpv": rng.choices(cfg.codes_qpv, poids_qpv)[0] if rng.random() < 0.7 else "HORS_QPV",
                            "prenom": rng.choice(PRENOMS.get(sexe, PRENOMS["F"] + PRENOMS["M"])),
                            "nom": rng.choice(NOMS),
                            "telephone": "06 " + " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))}
                for obs in _parcours(rng, entree):
                    if obs["date_observation"] <= FIN[ANNEES[-1]]:
                        fichiers[obs["date_observation"].year].append(
                            {"reference_cpo": cpo.reference, "identifiant_beneficiaire": ident,
                             "date_entree": entree, **obs, **personne})
        for annee, rows in fichiers.items():
            rows.sort(key=lambda r: (r["date_entree"], r["identifiant_beneficiaire"], r["date_observation"]))
            lignes += len(rows)
            _ecrire_cohorte(boite, annee, cpo, rows, rng)
    return personnes, lignes


def _parcours(rng: random.Random, entree: dt.date) -> list[dict]:
    situation = "recherche_emploi" if rng.random() < 0.7 else "inactif"
    out = []
    for jalon, jours in JALONS:
        vu = entree + dt.timedelta(days=jours + (rng.randint(0, 21) if jours else 0))
        if jours:
            options = TRANSITIONS[situation]
            situation = rng.choices(list(options), weights=list(options.values()))[0]
        out.append({"jalon": jalon, "date_observation": vu, "situation": situation})
        sortie_positive = situation in ("emploi_durable", "formation_qualifiante") and rng.random() < 0.5
        if jours and (sortie_positive or (situation == "perdu_de_vue" and rng.random() < 0.6)):
            out.append({"jalon": "sortie", "date_observation": vu + dt.timedelta(days=rng.randint(3, 45)),
                        "situation": situation})
            break
    return out


def _ecrire_cohorte(boite: Boite, annee: int, cpo: Cpo, rows: list[dict], rng: random.Random) -> None:
    porteur = slug(cpo.porteur)
    fichier = f"cohortes_{slug(cpo.reference)}_{porteur}_{annee}"
    sortie = []
    for r in rows:
        ligne = {k: r[k] for k in ("reference_cpo", "identifiant_beneficiaire", "date_entree", "jalon",
                                   "date_observation", "situation", "sexe", "annee_naissance", "code_qpv")}
        if cpo.porteur == "Mission Locale du Douaisis":  # its software exports the whole tracking sheet
            prenom, nom = r["prenom"], r["nom"]
            ligne = {"Nom": nom.upper(), "Prénom": prenom, **ligne,
                     "E-mail": f"{slug(prenom)}.{slug(nom)}@exemple.fr",
                     "Téléphone": r["telephone"]}
        sortie.append(ligne)
    _casser_cohorte(annee, cpo, sortie, rng)
    if cpo.porteur == "PLIE du Douaisis":
        for ligne in sortie:
            for k in ("date_entree", "date_observation"):
                if isinstance(ligne[k], dt.date):
                    ligne[k] = dt.datetime.combine(ligne[k], dt.time())
        boite.xlsx(annee, fichier + ".xlsx", {"Suivi": sortie})
    elif cpo.porteur == "EVS les Galibots":
        boite.csv(annee, fichier + ".csv", sortie)
    elif cpo.porteur == "CS Adolphe Largiller":  # a spreadsheet kept by hand, headers typed in French
        boite.csv(annee, fichier + ".csv", [{EN_TETES_SAISIS.get(k, k): v for k, v in r.items()} for r in sortie],
                  FormatFr())
    else:
        boite.csv(annee, fichier + ".csv", sortie, FormatFr())


EN_TETES_SAISIS = {"reference_cpo": "Référence CPO", "identifiant_beneficiaire": "Identifiant bénéficiaire",
                   "date_entree": "Date entrée", "jalon": "Jalon", "date_observation": "Date observation",
                   "situation": "Situation", "sexe": "Sexe", "annee_naissance": "Année naissance",
                   "code_qpv": "Code QPV"}


def _casser_cohorte(annee: int, cpo: Cpo, rows: list[dict], rng: random.Random) -> None:
    r = rng
    porteur = cpo.porteur
    if annee == 2024:
        if porteur == "PLIE du Douaisis":  # year typed wrong: observed "before" entry
            x = r.choice([x for x in rows if x["jalon"] == "6_mois"])
            casser(x, "date_observation", "date_observation",
                   date_observation=x["date_observation"].replace(year=x["date_observation"].year - 1))
        if porteur == "EVS les Galibots":  # the previous contract's convention
            rows.append(casser(dict(r.choice(rows)), "reference_cpo", "cpo_inconnue",
                               reference_cpo="CPO-CCCO-2021-03"))
        if porteur == "CS Adolphe Largiller":  # entry year typed as birth year
            x = r.choice(rows)
            casser(x, "annee_naissance", "age_entree", annee_naissance=x["date_entree"].year)
    else:
        if porteur == "Mission Locale du Douaisis":  # a January follow-up keyed in early
            x = r.choice([x for x in rows if x["jalon"] == "12_mois" and x["date_observation"].month == 12])
            casser(x, "date_observation", "date_observation", date_observation=dt.date(2026, 1, 9))
        if porteur == "PLIE du Douaisis":
            x = r.choice([x for x in rows if x["jalon"] == "entree"])
            casser(x, "date_entree", "type_date", date_entree="31/04/2025", date_observation=None)
            x["date_observation"] = "31/04/2025"  # same wrong date on both: the row fails on date_entree only
            x[ERREUR] = ("date_entree", "type_date")
        if porteur == "EVS les Galibots":
            casser(r.choice(rows), "situation", "valeur_autorisee", situation="CDI")
        if porteur == "CS Adolphe Largiller":
            x = r.choice([x for x in rows if x["code_qpv"] == "QN05936M"] or rows)
            casser(x, "code_qpv", "qpv_inconnu", code_qpv="QM05936M")


# =====================================================================================================


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--racine", default=str(ROOT / "data" / "demo"))
    args = parser.parse_args()
    cfg = Config.charger()
    rng = random.Random(GRAINE)
    boite = Boite(Path(args.racine))
    boite.vider()
    prog = Programmation(cfg, rng)
    prog.generer()
    prog.ecrire(boite)
    nb_bilans = bilans_actions(prog, boite, rng)
    nb_engagements = engagements(cfg, boite, rng)
    nb_tfpb = tfpb(cfg, boite, rng)
    nb_indicateurs = indicateurs(cfg, boite, rng)
    personnes, nb_cohortes = cohortes(cfg, boite, rng)
    boite.ecrire_attendues()
    for annee, fichier, comptes in boite.ecrits:
        detail = ", ".join(f"{k} {v}" if k else str(v) for k, v in comptes.items())
        print(f"{annee}  {fichier:<60} {detail} lignes")
    for annee, r in prog.resume().items():
        bop = f"{r['bop147']:,.0f}".replace(",", " ")
        print(f"programmation {annee} : {r['dossiers']} dossiers dont {r['cpo']} en CPO "
              f"({100 * r['cpo'] / r['dossiers']:.0f} %, {r['references_cpo']} conventions), BOP 147 accordé {bop} €")
    print(f"bilans {nb_bilans}, engagements {nb_engagements}, tfpb {nb_tfpb}, indicateurs {nb_indicateurs}, "
          f"cohortes {nb_cohortes} lignes pour {personnes} bénéficiaires ; {len(boite.attendues)} erreurs attendues")


if __name__ == "__main__":
    main()
