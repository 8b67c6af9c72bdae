"""Jeu de données national synthétique : les 1 584 QPV réels (couche ANCT 2024) dans leurs EPCI réels (354 territoires).

    .venv/bin/python tools/generate_national.py --racine /tmp/national [--echelle 435]

Écrit dans `--racine` (un dossier temporaire, jamais le dépôt) :
- `config/` : une copie du dossier `config/` du projet dont `territoires/` est remplacé par un fichier par territoire
  synthétique (le chemin de la couche nationale est rendu absolu, la copie n'étant pas à la racine du projet) ;
- `inbox/<territoire>/<annee>/` pour 2024 et 2025 : les six familles, aux formats de la démo (mêmes écrivains) ;
- `erreurs_attendues.csv` (les quelques lignes cassées exprès, avec leur territoire) et `comptes.json` (volumes).

Les territoires : les EPCI réels (découpage administratif d'Etalab, millésime de config/settings.yaml) qui ont au
moins un QPV, avec leur SIREN, leur nom et leurs communes membres (noms et populations du COG) ; un QPV qui s'étend
sur deux EPCI va à celui qui a le plus de ses communes et y est déclaré partagé avec l'autre. Les métropoles du
banc d'essai sont donc les vraies (la Métropole du Grand Paris : 175 QPV, Aix-Marseille-Provence : 66…). Les QPV
dont aucune commune n'est dans un EPCI à fiscalité propre (Polynésie française, Saint-Martin) sont groupés par
département en territoires façon EPCI, SIREN inventé à clé de Luhn. Sans le découpage administratif, tous les QPV
le sont ainsi (`NB_TERRITOIRES` groupes). Les populations des QPV sont tirées au hasard (1 000 à 25 000 habitants
par QPV, ≈ 5,4 millions au total) : l'INSEE les publie à part. Les volumes d'une année pour les 435
territoires : ≈ 30 000 dossiers (≈ 90 000 lignes de programmation), ≈ 25 000 bilans d'actions, ≈ 10 000
engagements, la TFPB de ≈ 700 bailleurs, ≈ 150 000 lignes d'indicateurs, des cohortes de ≈ 200 000 personnes.
Chaque territoire est tiré de son propre générateur à graine fixe : à l'échelle N, les N territoires retenus ont
exactement les fichiers qu'ils ont à l'échelle nationale (le coût par territoire se compare d'une échelle à l'autre).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
import sys
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate_demo as demo
from generate_demo import (
    AAP,
    COLONNES_INDICATEURS,
    ENGAGEMENTS,
    ERREUR,
    JALONS,
    NBSP,
    NOUVEAU,
    POIDS_OBJECTIFS,
    PRECEDENT,
    SEED,
    TRANSITIONS,
    Boite,
    Cpo,
    Dossier,
    Euros,
    FormatFr,
    Ligne,
    Porteur,
    luhn_complete,
    slug,
)

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference"
ANNEES = demo.ANNEES
GRAINE = 2030
NB_TERRITOIRES = 435       # without the administrative references: groups of QPV per department
# national yearly volumes the generator aims at (435 territories); each territory gets its population's share
DOSSIERS_AN = 30000
ENTRANTS_AN = 100000       # CPO beneficiaries entering per year: two cohort years ≈ 200 000 people
BAILLEURS = 700
TEMPLATE = "ccco"          # the demo territory: referential, catalogue, contract dates, COPIL, diffusion


# =====================================================================================================
# Geography: the national QPV layer grouped into EPCI-like territories
# =====================================================================================================


@dataclass
class Territoire:
    code: str
    departement: str
    siren: str
    nom: str
    nom_court: str
    communes: list[dict]
    qpv: list[dict]
    bailleurs: list[str] = field(default_factory=list)
    reel: bool = False  # a real EPCI of the administrative references (its SIREN, name and communes)

    @property
    def population(self) -> int:
        return sum(q["population"] for q in self.qpv)


def _graine(*parts) -> int:
    return zlib.crc32("|".join(str(p) for p in parts).encode())


def lire_qpv(path: Path) -> list[dict]:
    layer = json.loads(gzip.decompress(path.read_bytes()))
    out = []
    for f in layer["features"]:
        p = f["properties"]
        communes = [c.strip().zfill(5) for c in str(p["insee_com"]).split(";") if c.strip()]
        out.append({"code": p["code_qp"], "nom": p["lib_qp"], "communes": communes})
    return sorted(out, key=lambda q: q["code"])


_PROPRIETES = re.compile(r'"properties":\s*\{\s*"code":\s*"([^"]+)",\s*"nom":\s*"((?:[^"\\]|\\.)*)"')


def lire_noms_communes(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    # names only: a pattern over the text is ten times faster than parsing 35 000 contours
    texte = gzip.decompress(path.read_bytes()).decode("utf-8")
    return {code: json.loads(f'"{nom}"') for code, nom in _PROPRIETES.findall(texte)}


def _departement(code_qpv: str) -> str:
    dep = code_qpv[2:5]
    return dep[1:] if dep[0] == "0" else dep  # 059 → 59, 02A → 2A, 971 → 971


def _composantes(qpvs: list[dict]) -> list[list[dict]]:
    """QPV that share a commune stay together (a QPV spanning two communes belongs to one territory)."""
    parent = list(range(len(qpvs)))

    def racine(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    par_commune: dict[str, int] = {}
    for i, q in enumerate(qpvs):
        for c in q["communes"]:
            if c in par_commune:
                parent[racine(i)] = racine(par_commune[c])
            else:
                par_commune[c] = i
    groupes: dict[int, list[dict]] = defaultdict(list)
    for i, q in enumerate(qpvs):
        groupes[racine(i)].append(q)
    return sorted(groupes.values(), key=lambda g: min(c for q in g for c in q["communes"]))


def _repartir_entier(total: int, poids: list[float], mini: list[int], maxi: list[int]) -> list[int]:
    """Integers ≈ proportional to `poids`, each in [mini, maxi], summing to `total` when the bounds allow."""
    brut = [total * p / sum(poids) for p in poids]
    out = [min(maxi[i], max(mini[i], int(b))) for i, b in enumerate(brut)]
    ordre = sorted(range(len(poids)), key=lambda i: brut[i] - int(brut[i]), reverse=True)
    while sum(out) < total and any(out[i] < maxi[i] for i in ordre):
        for i in ordre:
            if sum(out) < total and out[i] < maxi[i]:
                out[i] += 1
    while sum(out) > total and any(out[i] > mini[i] for i in ordre):
        for i in reversed(ordre):
            if sum(out) > total and out[i] > mini[i]:
                out[i] -= 1
    return out


def construire_territoires(qpvs: list[dict], noms: dict[str, str], decoupage=None) -> list[Territoire]:
    """The real EPCI that have a QPV (`decoupage`: core.decoupage.Decoupage), and the QPV outside any EPCI grouped
    per department; without the references, every QPV grouped per department into NB_TERRITOIRES territories."""
    if decoupage is None:
        territoires = _par_departement(qpvs, noms, NB_TERRITOIRES, set())
    else:
        noms = {**noms, **{c.code: c.nom for c in decoupage.communes.values()}}
        territoires, hors_epci = _par_epci(qpvs, decoupage)
        # about six QPV a group, as the overseas contracts without an EPCI à fiscalité propre go
        nombre = sum(max(1, round(len(g) / 6)) for g in _par_dep(hors_epci).values())
        territoires += _par_departement(hors_epci, noms, nombre, {t.siren for t in territoires}) if hors_epci else []
    _attribuer_bailleurs(territoires, noms)
    return sorted(territoires, key=lambda t: t.code)


def _par_dep(qpvs: list[dict]) -> dict[str, list[dict]]:
    par_dep: dict[str, list[dict]] = defaultdict(list)
    for q in qpvs:
        par_dep[_departement(q["code"])].append(q)
    return par_dep


def _par_epci(qpvs: list[dict], decoupage) -> tuple[list[Territoire], list[dict]]:
    """Each QPV to the EPCI holding most of its communes (ties: the lowest SIREN), shared with the others."""
    epci_de: dict[str, str] = {}
    for e in decoupage.epci.values():
        for c in e.codes_communes:
            epci_de[c] = e.siren
    par_epci: dict[str, list[dict]] = defaultdict(list)
    hors_epci = []
    for q in qpvs:
        # the layer's communes as they are now: a commune merged since 2024 is part of its new one
        q = {**q, "communes": list(dict.fromkeys(decoupage.actuelle(c) for c in q["communes"]))}
        comptes: dict[str, int] = defaultdict(int)
        for c in q["communes"]:
            if c in epci_de:
                comptes[epci_de[c]] += 1
        if not comptes:
            hors_epci.append(q)
            continue
        siren = min(comptes, key=lambda s: (-comptes[s], s))
        autres = sorted({epci_de[c] for c in q["communes"] if c in epci_de and epci_de[c] != siren}
                        | ({"?"} if any(c not in epci_de for c in q["communes"]) else set()))
        q = dict(q)
        if autres:
            noms_autres = [decoupage.epci[s].nom if s in decoupage.epci else "commune hors EPCI" for s in autres]
            q["partage"] = {"avec": ", ".join(noms_autres), "part_population": round(comptes[siren]
                                                                                     / len(q["communes"]), 2)}
        par_epci[siren].append(q)
    territoires = []
    for siren, groupe in sorted(par_epci.items()):
        e = decoupage.epci[siren]
        deps = sorted(_departement(q["code"]) for q in groupe)
        dep = max(set(deps), key=lambda d: (deps.count(d), d))
        qpv = [{**q, "population": _population_qpv(q["code"])} for q in sorted(groupe, key=lambda q: q["code"])]
        communes = [{"code_insee": m.code, "nom": m.nom, "population": m.population or 0}
                    for m in sorted(e.membres, key=lambda m: m.code)]
        court = re.sub(r"^(CA|CC|CU|Métropole|Metropole)\b\s*(de la |de l'|du |des |de |d')?", "", e.nom).strip()
        territoires.append(Territoire(f"e{siren}", dep, siren, e.nom, (court or e.nom)[:40], communes, qpv,
                                      reel=True))
    return territoires, hors_epci


def _par_departement(qpvs: list[dict], noms: dict[str, str], total: int, sirens: set[str]) -> list[Territoire]:
    par_dep = _par_dep(qpvs)
    deps = sorted(par_dep)
    composantes = {d: _composantes(par_dep[d]) for d in deps}
    nombre = dict(zip(deps, _repartir_entier(total, [len(par_dep[d]) for d in deps], [1] * len(deps),
                                             [len(composantes[d]) for d in deps])))
    territoires: list[Territoire] = []
    for dep in deps:
        groupes: list[list[dict]] = [[] for _ in range(nombre[dep])]
        cible = len(par_dep[dep]) / nombre[dep]
        k = 0
        comps = composantes[dep]
        for j, comp in enumerate(comps):  # communes in code order: neighbouring codes, neighbouring places
            reste = len(comps) - j  # each later group needs one component at least
            if groupes[k] and k < nombre[dep] - 1 and (len(groupes[k]) >= cible or reste <= nombre[dep] - 1 - k):
                k += 1
            groupes[k].extend(comp)
        for i, groupe in enumerate(groupes, start=1):
            territoires.append(_territoire(dep, i, groupe, noms, sirens))
    return territoires


def _population_qpv(code: str) -> int:
    rng = np.random.default_rng(_graine(GRAINE, "population", code))
    return int(np.clip(round(rng.lognormal(np.log(2600), 0.62), -1), 1000, 25000))


def _territoire(dep: str, i: int, groupe: list[dict], noms: dict[str, str], sirens: set[str]) -> Territoire:
    code = f"t{dep.lower().zfill(3)}_{i:02d}"
    qpv = []
    part_commune: dict[str, float] = defaultdict(float)
    for q in sorted(groupe, key=lambda q: q["code"]):
        pop = _population_qpv(q["code"])
        qpv.append({"code": q["code"], "nom": q["nom"], "communes": q["communes"], "population": pop})
        for c in q["communes"]:
            part_commune[c] += pop / len(q["communes"])
    rng = random.Random(_graine(GRAINE, "communes", code))
    communes = [{"code_insee": c, "nom": noms.get(c, f"Commune {c}"),
                 "population": int(round(part / rng.uniform(0.08, 0.5), -1))}
                for c, part in sorted(part_commune.items())]
    principale = max(communes, key=lambda c: c["population"])
    total = sum(c["population"] for c in communes)
    forme, sigle = (("Communauté d'agglomération", "CA") if total > 50000 else ("Communauté de communes", "CC"))
    # EPCI SIREN start with 2 4 and the department; the rest is drawn, unique among the generated territories
    h = _graine(code)
    dd = {"2A": "20", "2B": "20"}.get(dep, dep[-2:])
    while (siren := luhn_complete(f"24{dd}{h % 10000:04d}")) in sirens:
        h += 1
    sirens.add(siren)
    return Territoire(code, dep, siren, f"{forme} de {principale['nom']}", f"{sigle} {principale['nom']}",
                      communes, qpv)


PREFIXES_BAILLEUR = ["{c} Habitat", "OPH de {c}", "SA d'HLM {c} Logement", "Société immobilière de {c}",
                     "{c} Métropole Habitat", "Foyer rémois de {c}", "Immobilière sociale de {c}", "Logis de {c}"]


def _attribuer_bailleurs(territoires: list[Territoire], noms: dict[str, str]) -> None:
    """≈ 700 landlords: a pool per department (its share of the QPV), each territory takes a few of its pool."""
    par_dep: dict[str, list[Territoire]] = defaultdict(list)
    for t in territoires:
        par_dep[t.departement].append(t)
    nb_qpv = {d: sum(len(t.qpv) for t in ts) for d, ts in par_dep.items()}
    deps = sorted(par_dep)
    tailles = _repartir_entier(BAILLEURS, [nb_qpv[d] for d in deps], [1] * len(deps), [60] * len(deps))
    for dep, taille in zip(deps, tailles):
        rng = random.Random(_graine(GRAINE, "bailleurs", dep))
        villes = sorted({c["nom"] for t in par_dep[dep] for c in t.communes})
        pool, vus = [], set()
        while len(pool) < taille:
            nom = rng.choice(PREFIXES_BAILLEUR).format(c=rng.choice(villes))
            if nom in vus:
                nom = f"{nom} {len(pool) + 1}"
            vus.add(nom)
            pool.append(nom)
        k = 0
        for t in par_dep[dep]:
            # a metropolis works with dozens of landlords, a small town with one or two
            voulu = min(len(pool), max(1, min(30, round(1 + 0.8 * len(t.qpv)))))
            t.bailleurs = [pool[(k + j) % len(pool)] for j in range(voulu)]
            k += voulu


def references():
    """The administrative references the project's settings name (core.decoupage), or None when unreadable."""
    sys.path.insert(0, str(ROOT))
    from core.config.projet import ProjectConfig
    from core.decoupage import load_decoupage

    return load_decoupage(ProjectConfig(ROOT / "config"))


def selection(territoires: list[Territoire], echelle: int) -> list[Territoire]:
    """The first `echelle` territories of a fixed shuffle: small scales are a sample of departments."""
    ordre = sorted(territoires, key=lambda t: _graine(GRAINE, "ordre", t.code))
    return sorted(ordre[:echelle], key=lambda t: t.code)


# =====================================================================================================
# Configuration: a copy of config/ with the synthetic territories
# =====================================================================================================


def ecrire_config(dest: Path, territoires: list[Territoire], config_source: Path = ROOT / "config") -> Path:
    cible = dest / "config"
    if cible.exists():
        shutil.rmtree(cible)
    shutil.copytree(config_source, cible)
    modele = yaml.safe_load((config_source / "territoires" / f"{TEMPLATE}.yaml").read_text(encoding="utf-8"))
    shutil.rmtree(cible / "territoires")
    (cible / "territoires").mkdir()
    # a relative path in settings is read from the config folder's parent: the copy must point at the real layer
    settings_path = cible / "settings.yaml"
    settings = yaml.safe_load(settings_path.read_text(encoding="utf-8"))
    decoupage = settings.get("decoupage_administratif") or {}
    sources = [settings.get("geographie_reference", {}), *(decoupage.get(k, {}) for k in ("epci", "communes"))]
    for source in sources:
        local = source.get("fichier_local") if isinstance(source, dict) else None
        if local and not Path(local).is_absolute():
            source["fichier_local"] = str((config_source.parent / local).resolve())
    settings_path.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for t in territoires:
        doc = dict(modele)
        doc.update({
            "code": t.code, "nom": t.nom, "nom_court": t.nom_court, "siren_epci": t.siren,
            "departement": t.departement, "communes": t.communes,
            "qpv": [{k: q[k] for k in ("code", "nom", "communes", "population", "partage") if k in q}
                    for q in t.qpv],
            "niveaux_comparaison": [
                {"niveau_geo": "qpv_departement", "code_geo": t.departement, "libelle": f"QP du {t.departement}"},
                {"niveau_geo": "epci", "code_geo": t.siren, "libelle": t.nom_court}],
            "partenaires_attendus": [{"nom": nom, "type_partenaire": typ, "familles": fam}
                                     for nom, typ, fam in partenaires(t)],
            "bailleurs": t.bailleurs,
            "sources_http": [],
        })
        doc.pop("libelle_departement", None)
        origine = (f"l'EPCI réel {t.siren} et ses {len(t.qpv)} QPV" if t.reel else
                   f"{len(t.qpv)} QPV réels du département {t.departement}, hors de tout EPCI à fiscalité propre")
        (cible / "territoires" / f"{t.code}.yaml").write_text(
            f"# Territoire synthétique (tools/generate_national.py) : {origine} ; fichiers synthétiques.\n"
            + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=200), encoding="utf-8")
    return cible


# The demo's partners, named for any department; the EPCI sends the families it steers.
PARTENAIRES = {  # demo name → (name pattern, type)
    "Préfecture du Nord": ("Préfecture ({dep})", "etat"),
    "France Travail": ("France Travail", "operateur_etat"),
    "CAF du Nord": ("CAF ({dep})", "operateur_etat"),
    "CPAM Lille-Douai": ("CPAM ({dep})", "operateur_etat"),
    "ARS Hauts-de-France": ("ARS", "sante"),
    "Éducation nationale": ("Éducation nationale", "etat"),
    "Région Hauts-de-France": ("Région", "region"),
    "Département du Nord": ("Département ({dep})", "departement"),
    "Communauté de communes Cœur d'Ostrevent": ("{epci}", "epci"),
    "Mission Locale du Douaisis": ("Mission Locale {court}", "association"),
}


def partenaires(t: Territoire) -> list[tuple[str, str, list[str]]]:
    out = []
    for motif, typ in PARTENAIRES.values():
        familles = ["engagements"] + (["programmation", "bilans_actions", "indicateurs", "cohortes"]
                                      if typ == "epci" else [])
        out.append((motif.format(dep=t.departement, epci=t.nom, court=t.nom_court), typ, familles))
    return out


# =====================================================================================================
# One territory's inboxes
# =====================================================================================================


class BoiteTerritoire(Boite):
    def vider(self) -> None:
        for annee in ANNEES:
            if self.dossier(annee).exists():
                shutil.rmtree(self.dossier(annee))
            self.dossier(annee).mkdir(parents=True)


ASSOCIATIONS = ["Centre social {c}", "Espace de vie sociale {c}", "Maison de quartier {c}", "Association sportive {c}",
                "Compagnie théâtrale {c}", "Épicerie solidaire {c}", "Jardins partagés {c}", "Régie de quartier {c}",
                "Ludothèque {c}", "Association des femmes relais {c}", "Club de prévention {c}"]
INTERCOMMUNALES = [("Mission Locale {t}", "insertion"), ("PLIE {t}", "insertion"), ("{t} Insertion", "insertion"),
                   ("CIDFF ({dep})", "association"), ("France Victimes ({dep})", "association"),
                   ("Prévention spécialisée {t}", "association"), ("Ressourcerie {t}", "association"),
                   ("Sport santé {t}", "association")]


class GenerateurTerritoire:
    def __init__(self, t: Territoire, poids: float, objectifs: list[str]):
        self.t, self.poids, self.objectifs = t, poids, objectifs
        self.rng = random.Random(_graine(GRAINE, "territoire", t.code))
        # a third of the territories send workbooks (Dauphin's XLSX export, landlords' and CNAM's workbooks),
        # the others CSV: XLSX writing is most of the generation time, and reading them most of the sources step
        self.xlsx = _graine(GRAINE, "xlsx", t.code) % 3 == 0
        self.np = np.random.default_rng(_graine(GRAINE, "numpy", t.code))
        self.qpv_de_commune: dict[str, list[str]] = defaultdict(list)
        for q in t.qpv:
            for c in q["communes"]:
                self.qpv_de_commune[c].append(q["code"])
        self._porteurs()
        self.dossiers: dict[int, list[Dossier]] = {}
        self.cpos: list[Cpo] = []

    # --- porteurs ----------------------------------------------------------------------------------

    def _siret(self, p: Porteur, insee: str | None = None) -> str:
        rng = self.rng
        if p.nature == "epci":
            siren = self.t.siren
        elif p.nature == "commune":
            siren = luhn_complete("21" + insee[:2].replace("A", "0").replace("B", "0") + "0" + insee[2:])
        elif p.nature == "ccas":
            siren = luhn_complete("26" + f"{rng.randint(0, 999999):06d}")
        else:
            siren = luhn_complete(rng.choice("34578") + f"{rng.randint(0, 9999999):07d}")
        return luhn_complete(siren + f"{rng.randint(1, 99):04d}")

    def _porteurs(self) -> None:
        rng, t = self.rng, self.t
        self.epci = Porteur(t.nom, None, "epci")
        self.epci.siret = self._siret(self.epci)
        self.pre = Porteur(f"Programme de Réussite Éducative {t.nom_court}", None, "epci", self.epci.siret)
        self.communes, self.ccas, self.associations, self.insertion = [], [], [], []
        for c in t.communes:
            if c["code_insee"] not in self.qpv_de_commune:
                continue
            commune = Porteur(f"Commune de {c['nom']}", c["nom"], "commune")
            commune.siret = self._siret(commune, c["code_insee"])
            ccas = Porteur(f"CCAS de {c['nom']}", c["nom"], "ccas")
            ccas.siret = self._siret(ccas)
            self.communes.append((commune, c["code_insee"]))
            self.ccas.append((ccas, c["code_insee"]))
            nb = max(1, min(8, round(len(self.qpv_de_commune[c["code_insee"]]) * rng.uniform(1.5, 3))))
            for motif in rng.sample(ASSOCIATIONS, min(nb, len(ASSOCIATIONS))):
                a = Porteur(motif.format(c=c["nom"]), c["nom"], "association")
                a.siret = self._siret(a) if rng.random() < 0.85 else ""
                self.associations.append((a, c["code_insee"]))
        for motif, genre in INTERCOMMUNALES:
            a = Porteur(motif.format(t=t.nom_court, dep=t.departement), None, "association")
            a.siret = self._siret(a)
            (self.insertion if genre == "insertion" else self.associations).append((a, None))

    def _qpv_cibles(self, insee: str | None) -> str:
        if insee:
            return ";".join(self.qpv_de_commune[insee])
        codes = [q["code"] for q in self.t.qpv]
        if len(codes) == 1 or self.rng.random() < 0.5:
            return "TOUS"
        return ";".join(sorted(self.rng.sample(codes, self.rng.randint(2, min(4, len(codes))))))

    def _porteur_aap(self, objectif: str) -> tuple[Porteur, str | None]:
        choix = self.rng.choice(AAP[objectif][1])
        if choix == "communes":
            return self.rng.choice(self.communes)
        if choix == "ccas":
            return self.rng.choice(self.ccas)
        if choix.startswith("Communauté"):
            return self.epci, None
        if choix in ("Mission Locale du Douaisis", "Cœur d'Ostrevent Insertion") or objectif.startswith("OG.1"):
            return self.rng.choice(self.insertion + self.associations)
        return self.rng.choice(self.associations)

    # --- programmation -----------------------------------------------------------------------------

    def _conventions(self, n_dossiers: int) -> None:
        """CPO covering about a third of the dossiers; the insertion ones follow cohorts of beneficiaries."""
        rng, t = self.rng, self.t
        actions = 0
        k = {2024: 0, 2025: 0}
        insertion = list(self.insertion)
        while actions < 0.33 * n_dossiers:
            debut = 2024 if rng.random() < 0.8 else 2025
            k[debut] += 1
            fin = min(2030, debut + rng.randint(1, 3))
            reference = f"CPO-{t.code.upper()}-{debut}-{k[debut]:02d}"
            if insertion:
                porteur, insee = insertion.pop(0)
                ogs = [("OG.1.1", f"Accompagnement vers l'emploi — {porteur.nom}", rng.choice([9000, 15000, 24000]))]
                cohorte = {"entrants": (0, 0)}
            else:
                porteur, insee = rng.choice(self.associations + [(self.pre, None)])
                ogs = []
                for _ in range(rng.randint(1, 6)):
                    og = rng.choices(list(POIDS_OBJECTIFS), weights=list(POIDS_OBJECTIFS.values()))[0]
                    ogs.append((og, rng.choice(AAP[og][0]), rng.choice([3000, 4000, 5000, 7000, 8000, 12000])))
                ogs = list({(o, i): (o, i, b) for o, i, b in ogs}.values())
                cohorte = None
            cpo = Cpo(reference, porteur.nom, debut, fin, ogs, cohorte)
            cpo._porteur, cpo._insee = porteur, insee
            self.cpos.append(cpo)
            actions += len(ogs)
        suivies = [c for c in self.cpos if c.cohorte is not None]
        for c in suivies:  # their reports count about the entrants of the year
            entrants = max(5, round(ENTRANTS_AN * self.poids / len(suivies)))
            c.cohorte["entrants"] = (entrants, entrants)

    def programmation(self) -> None:
        rng = self.rng
        n = max(6, round(DOSSIERS_AN * self.poids))
        self._conventions(n)
        precedents: list[Dossier] = []
        for annee in ANNEES:
            dossiers = [self._dossier(annee, c._porteur, c._insee, og, titre, "CPO", cpo=c, bop=bop)
                        for c in self.cpos if c.debut <= annee <= c.fin for og, titre, bop in c.actions]
            deja = {(d.porteur.nom, d.intitule) for d in dossiers}
            for ancien in precedents:
                cle = (ancien.porteur.nom, ancien.intitule)
                if ancien.mode == "AAP" and rng.random() < 0.7 and cle not in deja:
                    dossiers.append(self._dossier(annee, ancien.porteur, None, ancien.objectif, ancien.intitule,
                                                  "AAP", qpv=ancien.qpv_cibles))
                    deja.add(cle)
            essais = 0
            while len(dossiers) < n and essais < 20 * n:
                essais += 1
                mode = "fil_de_l_eau" if rng.random() < 0.12 else "AAP"
                objectif = rng.choices(list(POIDS_OBJECTIFS), weights=list(POIDS_OBJECTIFS.values()))[0]
                porteur, insee = self._porteur_aap(objectif)
                intitule = rng.choice(AAP[objectif][0])
                if (porteur.nom, intitule) in deja:
                    continue
                deja.add((porteur.nom, intitule))
                dossiers.append(self._dossier(annee, porteur, insee, objectif, intitule, mode))
            numero = rng.randint(8, 30)
            rng.shuffle(dossiers)
            for d in dossiers:
                # Dauphin numbers are unique across the platform: a territory's block (two territories with
                # the same numbers also trip marts check parts_qpv_completes, which groups without territoire)
                d.numero = f"{annee}-{self.t.code[1:].replace('_', '')}-{numero:05d}"
                numero += rng.choice([1, 1, 1, 2, 3, 5])
            self.dossiers[annee] = dossiers
            precedents = dossiers

    def _dossier(self, annee, porteur, insee, objectif, intitule, mode, cpo=None, bop=None, qpv=None) -> Dossier:
        rng = self.rng
        d = Dossier("", annee, porteur, objectif, intitule, qpv or self._qpv_cibles(insee), mode, cpo)
        if bop is None:
            bop = rng.choice([2000, 2500, 3000, 4000, 4500, 5000, 6000, 7000, 8000, 10000])
            if mode == "fil_de_l_eau":
                bop = rng.choice([1000, 1500, 2000, 2500, 3000])
        else:
            bop = round(bop * (1.0 if annee == cpo.debut else 1.02), -2)
        part = lambda lo, hi: round(bop * rng.uniform(lo, hi), -2) or 500
        financements = [("etat_bop147", "specifique", bop)]
        og = objectif
        if rng.random() < 0.85:
            financements.append(("epci", "specifique", part(0.3, 0.9)))
        if porteur.nature == "commune":
            financements.append(("commune", "droit_commun", part(0.5, 1.5)))
        elif porteur.commune and rng.random() < 0.7:
            financements.append(("commune", rng.choice(["specifique", "droit_commun"]), part(0.2, 0.7)))
        if rng.random() < (0.5 if og.startswith("OG.1") else 0.15):
            financements.append(("region", "specifique", part(0.4, 1.0)))
        if rng.random() < (0.45 if og in ("OG.1.1", "OG.1.2", "OG.4.2") else 0.12):
            financements.append(("departement", "droit_commun", part(0.3, 0.9)))
        if rng.random() < (0.5 if og in ("OG.3.3", "OG.4.2", "OG.3.4") else 0.1):
            financements.append(("caf", "droit_commun", part(0.3, 0.8)))
        if og == "OG.3.1" and rng.random() < 0.6:
            financements.append(("ars", "droit_commun", part(0.4, 1.0)))
        if og in ("OG.2.1", "OG.2.2", "OG.4.1") and rng.random() < 0.4:
            financements.append(("bailleur", "specifique", part(0.2, 0.6)))
        if og in ("OG.3.3", "OG.1.2") and rng.random() < 0.25:
            financements.append(("etat_autre", "droit_commun", part(0.2, 0.5)))
        statut = "accorde" if cpo else rng.choices(["accorde", "refuse", "en_instruction", "abandonne"],
                                                   [88, 4, 6 if mode == "fil_de_l_eau" else 2, 2])[0]
        for financeur, nature, montant in financements:
            s = statut
            if s == "accorde" and not cpo and financeur not in ("etat_bop147", "epci") and rng.random() < 0.06:
                s = "refuse"
            accorde = {"accorde": float(round(montant * rng.choice([1, 1, 1, 1, 0.9, 0.8]), -2)),
                       "refuse": rng.choice([0.0, None]), "en_instruction": None, "abandonne": None}[s]
            if cpo:
                accorde = float(montant)
            d.lignes.append(Ligne(financeur, nature, float(montant), accorde, s))
        d.cout_total = float(round(sum(ligne_.demande for ligne_ in d.lignes) * rng.uniform(1.08, 1.6), -1))
        return d

    @staticmethod
    def _ligne(d: Dossier, ligne_: Ligne) -> dict:
        c = d.cpo
        return {"N° dossier": d.numero, "Année": d.annee, "Porteur": d.porteur.nom, "SIRET": d.porteur.siret,
                "Intitulé de l'action": d.intitule, "Code objectif": d.objectif, "QPV cibles": d.qpv_cibles,
                "Mode financement": d.mode, "Référence CPO": c.reference if c else None,
                "CPO année début": c.debut if c else None, "CPO année fin": c.fin if c else None,
                "Financeur": ligne_.financeur, "Nature crédit": ligne_.nature,
                "Montant demandé (€)": Euros(ligne_.demande),
                "Montant accordé (€)": None if ligne_.accorde is None else Euros(ligne_.accorde),
                "Statut": ligne_.statut,
                "Coût total action (€)": Euros(d.cout_total), **ligne_.casse}

    def ecrire_programmation(self, boite: Boite) -> int:
        n = 0
        for annee, dossiers in self.dossiers.items():
            seuls = [d for d in dossiers if len(d.lignes) == 1 and d.mode == "AAP" and not d.cpo]
            if seuls:  # one unknown objective code a year, as in the demo (its dossier gets no report)
                d = self.rng.choice(seuls)
                d.lignes[0].casse = {ERREUR: ("code_objectif", "objectif_inconnu"), "Code objectif": "OG.5.1"}
            plateforme = [self._ligne(d, ligne_) for d in dossiers if d.mode != "fil_de_l_eau" for ligne_ in d.lignes]
            fil = [{("Intitulé action" if k == "Intitulé de l'action" else k): v
                    for k, v in self._ligne(d, ligne_).items()}
                   for d in dossiers if d.mode == "fil_de_l_eau" for ligne_ in d.lignes]
            if self.xlsx:
                boite.xlsx(annee, f"programmation_{annee}_dauphin.xlsx", {"Export Dauphin": plateforme})
            else:
                boite.csv(annee, f"programmation_{annee}_dauphin.csv", plateforme, FormatFr(NBSP))
            if fil:
                boite.csv(annee, f"programmation_{annee}_fil_de_l_eau.csv", fil, FormatFr(NBSP))
            n += len(plateforme) + len(fil)
        return n

    # --- bilans_actions ----------------------------------------------------------------------------

    def bilans_actions(self, boite: Boite) -> int:
        rng = self.rng
        accordes = {a: [d for d in self.dossiers[a] if d.accorde and not any(ligne_.casse for ligne_ in d.lignes)]
                    for a in ANNEES}
        premiers = accordes[2024][:]
        rng.shuffle(premiers)
        precoces = premiers[: len(premiers) // 3]
        rapports = {2024: [(d, demo.bilan(rng, d, 2024)) for d in precoces]}
        tardifs = [d for d in premiers[len(premiers) // 3:] if rng.random() < 0.88]
        recents = [d for d in accordes[2025] if rng.random() < 0.25]
        rapports[2025] = [(d, demo.bilan(rng, d, 2024)) for d in tardifs] + [(d, demo.bilan(rng, d, 2025))
                                                                           for d in recents]
        n = 0
        for annee, paires in rapports.items():
            paires.sort(key=lambda p: p[1]["N° dossier"])
            groupes: dict[str, list[dict]] = {"dauphin": [], "centres_sociaux": [], "communes": []}
            for d, r in paires:
                if d.porteur.nature in ("commune", "ccas"):
                    groupes["communes"].append(r)
                elif d.porteur.nom.startswith(("Centre social", "Espace de vie", "Maison de quartier")):
                    groupes["centres_sociaux"].append(r)
                else:
                    groupes["dauphin"].append(r)
            if groupes["dauphin"] and not self.xlsx:
                boite.csv(annee, f"bilans_actions_{annee}_dauphin.csv", groupes["dauphin"])
            elif groupes["dauphin"]:
                boite.xlsx(annee, f"bilans_actions_{annee}_dauphin.xlsx", {"Comptes rendus": groupes["dauphin"]})
            if groupes["centres_sociaux"]:
                boite.csv(annee, f"bilans_actions_{annee}_centres_sociaux.csv",
                          [{demo._canonique(k): v for k, v in r.items()} for r in groupes["centres_sociaux"]])
            if groupes["communes"]:
                boite.csv(annee, f"bilans_actions_{annee}_communes.csv", groupes["communes"], FormatFr())
            n += len(paires)
        return n

    # --- engagements -------------------------------------------------------------------------------

    def engagements(self, boite: Boite) -> int:
        rng, t = self.rng, self.t
        populations = {q["code"]: q["population"] for q in t.qpv}
        total_pop = sum(populations.values())
        echelle = total_pop / 12109  # the demo's targets are the CCCO's (12 109 inhabitants in its QPV)
        ars_absente = _graine(GRAINE, "ars", t.code) % 3 == 0
        n = 0
        for annee in ANNEES:
            for (modele_nom, _), (nom, typ, _fam) in zip(PARTENAIRES.items(), partenaires(t)):
                if annee == 2025 and typ == "sante" and ars_absente:
                    continue
                rows = []
                lignes_modele = ENGAGEMENTS[modele_nom]
                for og, engagement, indicateur, unite, cible, (lo, hi), par_qpv, droit_commun in lignes_modele:
                    if unite in ("nombre", "euros") and cible >= 20:
                        cible = max(20, round(cible * echelle, -1))
                    for qpv in (list(populations) if par_qpv else [None]):
                        reparti = qpv and unite == "nombre" and cible >= 20
                        c = max(1.0, float(round(cible * populations[qpv] / total_pop if reparti else cible)))
                        fait = c * rng.uniform(lo, hi)
                        fait = round(min(100.0, fait), 1) if unite == "pourcentage" else float(round(fait))
                        rows.append({"Partenaire": nom, "Type partenaire": typ, "Année": annee, "Code objectif": og,
                                     "Engagement": engagement, "Indicateur": indicateur, "Unité": unite,
                                     "Valeur cible": c, "Valeur réalisée": None if rng.random() < 0.1 else fait,
                                     "Code QPV": qpv,
                                     "Montant droit commun (€)": Euros(round(droit_commun * echelle, -2))
                                     if droit_commun and not qpv else None,
                                     "Commentaire": None})
                n += len(rows)
                fichier = f"engagements_{annee}_{slug(t.nom_court if typ == 'epci' else nom)}"
                if typ in ("region", "departement") and self.xlsx:
                    boite.xlsx(annee, fichier + ".xlsx", {"Engagements": rows})
                elif typ in ("etat", "operateur_etat", "sante", "region", "departement"):
                    boite.csv(annee, fichier + ".csv", rows, FormatFr(NBSP))
                else:
                    boite.csv(annee, fichier + ".csv", [{demo._canonique(k): v for k, v in r.items()} for r in rows])
        return n

    # --- tfpb --------------------------------------------------------------------------------------

    def tfpb(self, boite: Boite) -> int:
        rng, t = self.rng, self.t
        stock: dict[str, dict[str, int]] = defaultdict(dict)
        for i, q in enumerate(t.qpv):
            logements = q["population"] / 2.45 * rng.uniform(0.55, 0.93)
            # every landlord of the territory owns dwellings in one QPV at least
            presents = ({b for j, b in enumerate(t.bailleurs) if j % len(t.qpv) == i}
                        or {t.bailleurs[i % len(t.bailleurs)]})
            presents |= set(rng.sample(t.bailleurs, rng.randint(0, min(2, len(t.bailleurs)))))
            parts = {b: rng.uniform(0.3, 1.0) for b in sorted(presents)}
            for b, p in parts.items():
                stock[b][q["code"]] = max(10, round(logements * p / sum(parts.values())))
        cout = {(b, q): rng.uniform(130, 250) for b in stock for q in stock[b]}
        n = 0
        for annee in ANNEES:
            indexation = 1.0 if annee == 2024 else 1.017
            for bailleur in t.bailleurs:
                patrimoine, actions = [], []
                for qpv, nb in stock[bailleur].items():
                    nb = nb - (rng.randint(0, 3) if annee == 2025 else 0)
                    abattement = round(nb * cout[(bailleur, qpv)] * indexation)
                    patrimoine.append({"bailleur": bailleur, "code_qpv": qpv, "annee": annee, "nb_logements": nb,
                                       "montant_abattement": Euros(abattement)})
                    taux = rng.uniform(0.8, 1.35) if rng.random() < 0.1 else rng.uniform(1.0, 1.35)
                    actions += demo._actions_tfpb(rng, bailleur, qpv, annee, abattement * taux)
                n += len(patrimoine) + len(actions)
                s = slug(bailleur)
                if self.xlsx and _graine(bailleur) % 2 == 0:  # one workbook, or two CSV files
                    boite.xlsx(annee, f"tfpb_{s}_{annee}.xlsx", {"patrimoine": patrimoine, "actions": actions},
                               nommer_feuilles=True)
                else:
                    boite.csv(annee, f"tfpb_patrimoine_{s}.csv", patrimoine, FormatFr())
                    boite.csv(annee, f"tfpb_actions_{s}.csv", actions, FormatFr())
        return n

    # --- indicateurs -------------------------------------------------------------------------------

    def indicateurs(self, boite: Boite, catalogue: dict[str, dict]) -> int:
        """Three millésimes per indicator (the demo's previous and latest, and one between) for each QPV, the
        QPV together, the department's QPV and the EPCI; rates with numerator and denominator."""
        rng, t = self.rng, self.t
        profil = rng.uniform(0.8, 1.2)  # this territory's QPV: poorer or less poor than the CCCO's
        facteurs_qpv = {q["code"]: rng.uniform(0.85, 1.15) for q in t.qpv}
        lots: dict[str, list[dict]] = {"base": []}
        for code, info in catalogue.items():
            m_recent, v_qe, v_dep, v_epci, _ = SEED[code]
            m_ancien, a_qe, a_dep, a_epci = PRECEDENT[code]
            series = [(m_ancien, a_qe, a_dep, a_epci)]
            if m_recent - m_ancien >= 2:
                mid = (m_ancien + m_recent) // 2
                w = (mid - m_ancien) / (m_recent - m_ancien)
                series.append((mid, *(None if a is None or b is None else round(a + w * (b - a), 1)
                                      for a, b in zip((a_qe, a_dep, a_epci), (v_qe, v_dep, v_epci)))))
            series.append((m_recent, v_qe, v_dep, v_epci))
            for serie in series:
                lots["base"] += self._lignes(code, info, *serie, profil, facteurs_qpv)
            if code in NOUVEAU:
                lots[code] = self._lignes(code, info, *NOUVEAU[code], profil, facteurs_qpv)
        n = 0
        for annee in ANNEES:
            rows = list(lots["base"])
            if annee == 2025:
                rows += [r for code in ("taux_pauvrete", "menages_minima_sociaux") for r in lots[code]]
            intrus = dict(rows[0], code_indicateur="taux_chomage_jeunes",
                          libelle_indicateur="Taux de chômage des 15-24 ans", unite="pourcentage", valeur=31.5,
                          numerateur=None, denominateur=None, source="INSEE RP 2019", millesime=2019)
            rows = [{c: r[c] for c in COLONNES_INDICATEURS} for r in rows]
            rows.append({c: intrus[c] for c in COLONNES_INDICATEURS}
                        | {ERREUR: ("code_indicateur", "indicateur_inconnu")})
            boite.csv(annee, f"indicateurs_compas_chiffres_cles_qp_{annee}.csv", rows)
            n += len(rows)
        c2s = [{c: r[c] for c in COLONNES_INDICATEURS} for r in lots["part_c2s"]]
        if self.xlsx:
            boite.xlsx(2025, "indicateurs_cnam_c2s_2023.xlsx", {"C2S": c2s})
        else:
            boite.csv(2025, "indicateurs_cnam_c2s_2023.csv", c2s, FormatFr())
        return n + len(c2s)

    def _lignes(self, code, info, millesime, v_qe, v_dep, v_epci, profil, facteurs_qpv) -> list[dict]:
        rng, t = self.rng, self.t
        base = {"code_indicateur": code, "libelle_indicateur": info["libelle"], "millesime": millesime,
                "unite": info["unite"], "source": f"{info['source']} {millesime}"}

        def ligne(niveau, geo, v, num=None, den=None):
            return {**base, "niveau_geo": niveau, "code_geo": geo, "valeur": v, "numerateur": num,
                    "denominateur": den, "secret": None}

        rows = []
        if code == "population":
            evolution = 1 + 0.004 * (millesime - 2018)
            pops = {q["code"]: float(round(q["population"] * evolution)) for q in t.qpv}
            rows.append(ligne("qpv_epci", t.siren, float(sum(pops.values()))))
            rows += [ligne("qpv", q, v) for q, v in pops.items()]
            return rows
        if info["unite"] == "indice":
            valeur = round(v_qe * profil, 1)
            rows.append(ligne("qpv_epci", t.siren, valeur))
            rows += [ligne("qpv", q, round(valeur * f, 1)) for q, f in facteurs_qpv.items()]
        else:
            nums = dens = 0
            par_qpv = []
            for q in t.qpv:
                den = max(40, round(q["population"] * rng.uniform(0.3, 0.9)))
                taux = min(95.0, max(1.0, v_qe * profil * facteurs_qpv[q["code"]]))
                num = round(den * taux / 100)
                nums, dens = nums + num, dens + den
                par_qpv.append(ligne("qpv", q["code"], round(100 * num / den, 1), float(num), float(den)))
            rows.append(ligne("qpv_epci", t.siren, round(100 * nums / dens, 1), float(nums), float(dens)))
            rows += par_qpv
        if v_dep is not None:
            rows.append(ligne("qpv_departement", t.departement, round(v_dep * rng.uniform(0.9, 1.1), 1)))
        if v_epci is not None:
            rows.append(ligne("epci", t.siren, round(v_epci * rng.uniform(0.85, 1.15), 1)))
        return rows

    # --- cohortes (vectorised: they are most of the rows) -------------------------------------------

    def cohortes(self, boite: Boite) -> tuple[int, int]:
        suivies = [c for c in self.cpos if c.cohorte is not None]
        if not suivies:
            return 0, 0
        codes_qpv = np.array([q["code"] for q in self.t.qpv])
        poids_qpv = np.array([q["population"] for q in self.t.qpv], dtype=float)
        poids_qpv /= poids_qpv.sum()
        personnes = lignes = 0
        for i, cpo in enumerate(suivies):
            entrants_an = cpo.cohorte["entrants"][0]
            lots = []
            for annee in ANNEES:
                if not cpo.debut <= annee <= cpo.fin:
                    continue
                nb = max(5, int(self.np.poisson(entrants_an)))
                lots.append(self._parcours(cpo, i, annee, nb, codes_qpv, poids_qpv))
                personnes += nb
            if not lots:
                continue
            frame = pd.concat(lots, ignore_index=True)
            frame = frame[frame["date_observation"] <= pd.Timestamp(ANNEES[-1], 12, 31)]
            frame = frame.sort_values(["date_entree", "identifiant_beneficiaire", "date_observation"], kind="stable")
            for annee, rows in frame.groupby(frame["date_observation"].dt.year):
                fichier = f"cohortes_{slug(cpo.reference)}_{slug(cpo.porteur)}_{annee}.csv"
                chemin = boite.dossier(int(annee)) / fichier
                if i % 2:  # kept in French Excel by half the porteurs
                    rows.to_csv(chemin, sep=";", index=False, date_format="%d/%m/%Y", encoding="cp1252",
                                lineterminator="\r\n")
                else:
                    rows.to_csv(chemin, index=False, date_format="%Y-%m-%d", lineterminator="\n")
                boite.ecrits.append((int(annee), fichier, {"": len(rows)}))
                lignes += len(rows)
        return personnes, lignes

    def _parcours(self, cpo: Cpo, i: int, annee: int, nb: int, codes_qpv, poids_qpv) -> pd.DataFrame:
        g = self.np
        etats = list(TRANSITIONS)
        matrice = np.array([[TRANSITIONS[a].get(b, 0) for b in etats] for a in etats], dtype=float)
        cumul = np.cumsum(matrice / matrice.sum(axis=1, keepdims=True), axis=1)
        entree = np.datetime64(f"{annee}-01-08") + g.integers(0, 326, nb).astype("timedelta64[D]")
        jeunes = "Mission Locale" in cpo.porteur
        age = g.integers(16, 26, nb) if jeunes else g.integers(18, 63, nb)
        sexe = np.where(g.random(nb) < 0.5, "F", np.where(g.random(nb) < 0.97, "M", "NR"))
        naissance = annee - age - (g.random(nb) < 0.5)
        qpv = np.where(g.random(nb) < 0.7, g.choice(codes_qpv, nb, p=poids_qpv), "HORS_QPV")
        ident = np.array([f"B{i}-{annee % 100}-{k:05d}" for k in range(1, nb + 1)])
        etat = np.where(g.random(nb) < 0.7, etats.index("recherche_emploi"), etats.index("inactif"))
        actif = np.ones(nb, dtype=bool)
        morceaux = []

        def observer(masque, jalon, dates, situation):
            morceaux.append(pd.DataFrame({
                "reference_cpo": cpo.reference, "identifiant_beneficiaire": ident[masque],
                "date_entree": entree[masque], "jalon": jalon, "date_observation": dates[masque],
                "situation": np.array(etats)[situation[masque]], "sexe": sexe[masque],
                "annee_naissance": naissance[masque], "code_qpv": qpv[masque]}))

        for jalon, jours in JALONS:
            vu = entree + (jours + (g.integers(0, 22, nb) if jours else np.zeros(nb, int))).astype("timedelta64[D]")
            if jours:
                tirage = g.random(nb)
                etat = np.minimum((tirage[:, None] > cumul[etat]).sum(axis=1), len(etats) - 1)
            observer(actif, jalon, vu, etat)
            if jours:
                positive = np.isin(etat, [etats.index("emploi_durable"), etats.index("formation_qualifiante")])
                sort = actif & ((positive & (g.random(nb) < 0.5))
                                | ((etat == etats.index("perdu_de_vue")) & (g.random(nb) < 0.6)))
                observer(sort, "sortie", vu + g.integers(3, 46, nb).astype("timedelta64[D]"), etat)
                actif &= ~sort
        frame = pd.concat(morceaux, ignore_index=True)
        for colonne in ("date_entree", "date_observation"):
            frame[colonne] = pd.to_datetime(frame[colonne])
        return frame


# =====================================================================================================


def generer(racine: Path, echelle: int = NB_TERRITOIRES, log=print) -> dict:
    debut = time.perf_counter()
    racine.mkdir(parents=True, exist_ok=True)
    if (racine / "inbox").exists():
        shutil.rmtree(racine / "inbox")
    tous = construire_territoires(lire_qpv(REFERENCE / "qpv-2024.geojson.gz"),
                                  lire_noms_communes(REFERENCE / "communes-2018.geojson.gz"), references())
    population = sum(t.population for t in tous)
    retenus = selection(tous, echelle)
    ecrire_config(racine, retenus)
    modele = demo.Config.charger()
    catalogue = modele.catalogue
    comptes: dict[str, float] = defaultdict(float)
    attendues = []
    for t in retenus:
        boite = BoiteTerritoire(racine, t.code)
        boite.vider()
        g = GenerateurTerritoire(t, t.population / population, modele.objectifs)
        g.programmation()
        comptes["dossiers_2025"] += len(g.dossiers[2025])
        comptes["lignes_programmation_2025"] += sum(len(d.lignes) for d in g.dossiers[2025])
        comptes["lignes_programmation"] += g.ecrire_programmation(boite)
        comptes["bilans_actions"] += g.bilans_actions(boite)
        comptes["engagements_lignes"] += g.engagements(boite)
        comptes["tfpb_lignes"] += g.tfpb(boite)
        comptes["indicateurs_lignes"] += g.indicateurs(boite, catalogue)
        personnes, lignes = g.cohortes(boite)
        comptes["cohortes_personnes"] += personnes
        comptes["cohortes_lignes"] += lignes
        attendues += [{"territoire": t.code, **e} for e in boite.attendues]
        for annee, _fichier, lots in boite.ecrits:
            comptes[f"lignes_{annee}"] += sum(lots.values())
            comptes[f"fichiers_{annee}"] += 1
    comptes.update({"territoires": len(retenus), "qpv": sum(len(t.qpv) for t in retenus),
                    "communes": sum(len(t.communes) for t in retenus),
                    "population_qpv": sum(t.population for t in retenus),
                    "bailleurs": len({b for t in retenus for b in t.bailleurs}),
                    "engagements_2025": _engagements_annee(racine, retenus),
                    "secondes": round(time.perf_counter() - debut, 1)})
    pd.DataFrame(attendues, columns=["territoire", "annee", "fichier", "ligne", "colonne", "regle"]).sort_values(
        ["territoire", "annee", "fichier", "ligne"]).to_csv(racine / "erreurs_attendues.csv", index=False)
    comptes = {k: (int(v) if float(v).is_integer() else v) for k, v in comptes.items()}
    (racine / "comptes.json").write_text(json.dumps(comptes, indent=1, ensure_ascii=False), encoding="utf-8")
    log(f"{len(retenus)} territoires, {comptes['qpv']} QPV écrits dans {racine} en {comptes['secondes']} s")
    return comptes


def _engagements_annee(racine: Path, territoires: list[Territoire]) -> int:
    """Distinct commitments (partner × engagement) of the 2025 inboxes, a QPV detail counting once."""
    total = 0
    for t in territoires:
        ars_absente = _graine(GRAINE, "ars", t.code) % 3 == 0
        total += sum(len(v) for k, v in ENGAGEMENTS.items() if not (ars_absente and k == "ARS Hauts-de-France"))
    del racine
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--racine", required=True, help="dossier de sortie (temporaire ; jamais le dépôt)")
    parser.add_argument("--echelle", type=int, default=NB_TERRITOIRES,
                        help="nombre de territoires (au-delà de leur nombre : tous ; 354 avec le découpage "
                             "administratif)")
    args = parser.parse_args()
    racine = Path(args.racine).resolve()
    if ROOT in (racine, *racine.parents):
        parser.error("--racine doit être hors du dépôt : le jeu national ne se commite pas")
    comptes = generer(racine, max(1, min(NB_TERRITOIRES, args.echelle)))
    print(json.dumps(comptes, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
