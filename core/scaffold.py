"""`bilan territoire nouveau`: a territory and its referential written from the national references — the EPCI's
name, SIREN and member communes (Etalab's « découpage administratif »), the QPV of those communes with their names
and communes (the 2024 layer, an intercommunal QPV flagged), the four national priorities of Engagements
Quartiers 2030 — leaving the steward only what no reference gives: targets, partners, landlords, COPIL dates, QPV
populations, marked « À RENSEIGNER » where they go. The files load once those are written; `bilan config verifier`
then checks them against the same references."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from core.common import normalise_header
from core.decoupage import Decoupage, Epci
from core.reference import ReferenceGeographie

TODO = "À RENSEIGNER"
# the four national priorities of the contrats de ville « Engagements Quartiers 2030 » (circular of 31 August 2023)
PRIORITES = {"1": "Le plein emploi pour les habitants des quartiers prioritaires",
             "2": "La transition écologique et énergétique",
             "3": "L'émancipation pour tous à travers la promotion de l'éducation",
             "4": "La tranquillité et la sécurité publique"}
_SMALL_WORDS = {"de", "la", "le", "les", "du", "des", "d", "l", "et", "en"}


def _q(text: str) -> str:
    """A YAML double-quoted string."""
    return json.dumps(text, ensure_ascii=False)


def short_name(epci: Epci) -> str:
    """« CA de la Porte du Hainaut » → « CAPH »: the initials of its type and its meaningful words."""
    words = [w for w in re.split(r"[\s'’-]+", epci.nom) if w and normalise_header(w) not in _SMALL_WORDS]
    # the COG's type abbreviation (CA, CC, CU) is kept whole
    return "".join(w if w.isupper() and len(w) <= 3 else w[0].upper() for w in words)[:10]


def territory_code(epci: Epci) -> str:
    return short_name(epci).lower() or f"epci{epci.siren}"


def _qpv_of(epci: Epci, reference: ReferenceGeographie | None) -> list:
    if reference is None:
        return []
    return sorted((q for q in reference.qpv.values() if set(q.communes) & epci.codes_communes), key=lambda q: q.code)


def territory_yaml(epci: Epci, code: str, decoupage: Decoupage, reference: ReferenceGeographie | None,
                   today: dt.date) -> str:
    qpv = _qpv_of(epci, reference)
    departement = next((c.departement for c in epci.membres if c.departement), TODO)
    lines = [
        f"# Territoire écrit par `bilan territoire nouveau --siren {epci.siren}` le {today:%d/%m/%Y}, depuis",
        f"# le découpage administratif {decoupage.millesime} (Etalab, COG de l'INSEE) et la couche nationale des QPV",
        "# 2024 (ANCT).",
        f"# À compléter là où il est écrit « {TODO} », puis : bilan config verifier --territoire {code}",
        f"code: {code}",
        f"nom: {_q(epci.nom)}",
        f"nom_court: {short_name(epci)}",
        f"siren_epci: \"{epci.siren}\"",
        f"departement: \"{departement}\"",
        "contrat:",
        "  intitule: \"Contrat de ville « Engagements Quartiers 2030 »\"",
        "  annee_debut: 2024",
        "  annee_fin: 2030",
        f"referentiel: {code}",
        "catalogue_indicateurs: compas_qpv",
        "",
        f"# Communes membres de l'EPCI ({len(epci.membres)}, COG {decoupage.millesime}), population municipale de",
        "# l'INSEE.",
        "communes:",
    ]
    for c in sorted(epci.membres, key=lambda c: c.code):
        population = f", population: {c.population}" if c.population is not None else ""
        lines.append(f"  - {{code_insee: \"{c.code}\", nom: {_q(c.nom)}{population}}}")
    lines += ["", "# QPV 2024 dont une commune est dans l'EPCI (couche nationale de l'ANCT). Population : la",
              "# population municipale de chaque QPV (INSEE, « population des quartiers prioritaires », ou le contrat",
              f"# de ville) : {TODO}. La source, telle que les pages des quartiers la citent, dans",
              "# `source_population_qpv`, par exemple « population réestimée, Filosofi 2019 ».",
              "# source_population_qpv: \"…\"",
              "qpv:"]
    if not qpv:
        lines.append(f"  []  # {TODO} : aucun QPV trouvé (couche nationale illisible ou EPCI sans QPV)")
    for q in qpv:
        shared = [c for c in q.communes if c not in epci.codes_communes]
        communes = ", ".join(f"\"{c}\"" for c in q.communes)
        if shared:
            others = sorted({e.nom for c in shared for e in decoupage.epci_of_commune(c)})
            lines.append(f"  # QPV intercommunal : s'étend aussi sur {', '.join(shared)} ({', '.join(others)}) ; "
                         "population : celle de tout le quartier")
            lines.append(f"  - {{code: {q.code}, nom: {_q(q.nom)}, communes: [{communes}], population: {TODO},\n"
                         f"     partage: {{avec: {_q(', '.join(others) or TODO)}, part_population: {TODO}}}}}")
            continue
        lines.append(f"  - {{code: {q.code}, nom: {_q(q.nom)}, communes: [{communes}], population: {TODO}}}")
    lines += ["",
              "# Géographie complémentaire, si le contrat en retient (poches de pauvreté, quartiers de veille active,",
              "# quartiers vécus) : un code local, le type (types_quartier_complementaire de vocabulaire.yaml), les",
              "# communes, la population et, s'il existe, un contour GeoJSON déposé dans <données>/contours/"
              f"{code}/ ; par exemple",
              "# - {code: PP-CENTRE, type: poche_pauvrete, nom: \"Centre\", communes: [\"59000\"], population: 800,",
              "#    contour: centre.geojson}",
              "# La programmation et les indicateurs les visent par ce code ; le bilan les rend à part des QPV.",
              "quartiers_complementaires: []",
              "", "niveaux_comparaison:",
              f"  - {{niveau_geo: qpv_departement, code_geo: \"{departement}\", libelle: QP du département}}",
              f"  - {{niveau_geo: epci, code_geo: \"{epci.siren}\", libelle: {short_name(epci)}}}",
              "",
              f"# {TODO} : qui doit envoyer ses engagements chaque année, par exemple",
              "# - {nom: \"France Travail\", type_partenaire: operateur_etat, familles: [engagements]}",
              f"# et l'EPCI lui-même : {{nom: {_q(epci.nom)}, type_partenaire: epci, familles: [engagements, "
              "programmation, bilans_actions, indicateurs, cohortes]}",
              "partenaires_attendus: []",
              f"# {TODO} : les bailleurs sociaux qui déclarent l'abattement de TFPB dans les QPV",
              "bailleurs: []",
              f"# {TODO} : les dates des comités de pilotage, par exemple {{date: 2026-03-19, annee_bilan: 2025}}",
              "copil: []", ""]
    return "\n".join(lines)


def referentiel_yaml(epci: Epci, code: str, today: dt.date) -> str:
    lines = [
        f"# Référentiel d'évaluation écrit par `bilan territoire nouveau` le {today:%d/%m/%Y} : les quatre",
        "# priorités nationales d'Engagements Quartiers 2030, un objectif général par priorité et des indicateurs",
        f"# de départ tirés des mesures du projet. À compléter là où il est écrit « {TODO} » : les intitulés des",
        "# objectifs du contrat, les cibles 2027 et 2030 ; ajouter les questions évaluatives et les engagements des",
        "# partenaires du contrat.",
        f"code: {code}",
        "version: \"2024.0\"",
        f"intitule: {_q('Référentiel d’évaluation — Engagements Quartiers 2030, ' + epci.nom)}",
        "axes:",
    ]
    for axe, intitule in PRIORITES.items():
        lines += [f"  - code: \"{axe}\"", f"    intitule: {_q(intitule)}", "    objectifs:",
                  f"      - {{code: OG.{axe}.1, intitule: \"{TODO} : l'objectif général du contrat pour cette "
                  "priorité\"}"]
    lines += ["# Axes transversaux, si le contrat en a (participation, illectronisme, égalité femmes-hommes…) : un",
              "# code T1, T2…, un intitulé ; un objectif qui en sert un le dit par `transversaux: [T1]`, un",
              "# dossier de la programmation par sa colonne « axes transversaux ». Par exemple",
              "# - {code: T1, intitule: Encourager la participation citoyenne}",
              "axes_transversaux: []",
              "seuils_significativite:", "  pourcentage: 1.0", "orientations:",
              f"  pilote: {_q(short_name(epci) + ' — service politique de la ville')}",
              "  besoins:", "    - {indicateur: taux_pauvrete, sens: hausse}",
              "    - {indicateur: part_sans_diplome, sens: hausse}",
              "    - {indicateur: taux_emploi_15_64, sens: baisse}",
              "questions:"]
    for axe, intitule in PRIORITES.items():
        lines += [f"  - code: Q{axe}",
                  f"    intitule: {_q('Les crédits du contrat soutiennent-ils la priorité « ' + intitule + ' » ?')}",
                  "    critere: pertinence", f"    objectifs: [OG.{axe}.1]", "    indicateurs:",
                  f"      - code: I{axe}.1", f"        libelle: Crédits programmés pour la priorité {axe}",
                  "        unite: euros", "        mesure: prog.montant_accorde", f"        cle: axe {axe}",
                  "        sens: hausse", f"        cibles: [{{annee: 2027, valeur: {TODO}}}, "
                  f"{{annee: 2030, valeur: {TODO}}}]"]
    lines += ["  - code: Q5", "    intitule: La programmation atteint-elle la part de CPO que vise la circulaire ?",
              "    critere: suivi", "    objectifs: [OG.1.1, OG.2.1, OG.3.1, OG.4.1]", "    indicateurs:",
              "      - code: I5.1", "        libelle: Part des dossiers financés en CPO (objectif national ≥ 50 %)",
              "        unite: pourcentage", "        mesure: prog.part_cpo_dossiers", "        sens: hausse",
              "        cibles: [{annee: 2027, valeur: 50}, {annee: 2030, valeur: 50}]", ""]
    return "\n".join(lines)


def write_scaffold(config_dir: Path, epci: Epci, code: str, decoupage: Decoupage,
                   reference: ReferenceGeographie | None, today: dt.date, force: bool = False) -> list[Path]:
    """Writes config/territoires/<code>.yaml and config/referentiels/<code>.yaml; never over an existing file
    unless `force`."""
    targets = {config_dir / "territoires" / f"{code}.yaml": territory_yaml(epci, code, decoupage, reference, today),
               config_dir / "referentiels" / f"{code}.yaml": referentiel_yaml(epci, code, today)}
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise FileExistsError(", ".join(str(p) for p in existing))
    for path, text in targets.items():
        path.write_text(text, encoding="utf-8")
    return list(targets)
