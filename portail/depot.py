"""A partner's deposit: the file checked by the verifier's code path (`assets/staging/verification.py`), written
atomically into the territory's inbox only when every row is right, under a name the portal makes (the name the
partner's browser sends is never used as a path), and recorded with who deposited it and when."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path

from assets.sources import inbox_dir
from assets.staging.verification import Verdict, verify
from core.common import sha256_of, slug, write_atomic
from core.familles.family import Family
from core.familles.reading import refusal_before_archiving
from core.familles.registry import build_families
from core.resources import BilanSettings
from portail.etat import Etat, Invitation

SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class Sorte:
    """What a partner can deposit: a family whole (CSV for one table, XLSX for any), or one table of a family of
    several in CSV (`tfpb_patrimoine`)."""

    code: str
    famille: str
    libelle: str
    suffixes: tuple[str, ...]


def sortes(parametres: BilanSettings, invitation: Invitation,
           families: dict[str, Family] | None = None) -> dict[str, Sorte]:
    families = families or build_families(parametres.config)
    out: dict[str, Sorte] = {}
    for name in invitation.familles:
        family = families[name]
        if len(family.tables) == 1:
            out[name] = Sorte(name, name, f"{name} (CSV ou XLSX)", SUFFIXES)
        else:
            out[name] = Sorte(name, name, f"{name} (classeur XLSX, une feuille par table)", (".xlsx",))
            for t in family.tables:
                out[f"{name}_{t.sheet}"] = Sorte(f"{name}_{t.sheet}", name, f"{name}, feuille {t.sheet} (CSV)",
                                                 (".csv",))
    return out


def inbox_name(sorte: Sorte, invitation: Invitation, suffix: str) -> str:
    """The file's name in the inbox: its family first (how the pipeline knows it), the year and the partner."""
    return f"{sorte.code}_{invitation.annee}_{slug(invitation.partenaire)[:60]}{suffix}"


@dataclass
class Resultat:
    verdict: Verdict | None
    refus: str | None              # refused before reading (name, size, workbook structure)
    depose: bool
    fichier_boite: str | None
    depot_id: int


def deposit(parametres: BilanSettings, etat: Etat, invitation: Invitation, sorte: Sorte, client_name: str,
            data: bytes, families: dict[str, Family] | None = None) -> Resultat:
    suffix = Path(client_name).suffix.lower()
    family: Family = (families or build_families(parametres.config))[sorte.famille]
    limites = parametres.config.settings.limites
    refus = None
    if suffix not in sorte.suffixes:
        refus = (f"format « {suffix or 'sans extension'} » non accepté pour {sorte.libelle} : déposez un fichier "
                 + " ou ".join(s.lstrip(".").upper() for s in sorte.suffixes))
    else:
        refus = refusal_before_archiving(io.BytesIO(data), len(data), suffix, limites, client_name)
    name = inbox_name(sorte, invitation, suffix)
    verdict = None
    if refus is None:
        verdict = verify(parametres, family, invitation.territoire, invitation.annee, Path(name), data, name)
        refus = verdict.refus
    accepted = refus is None and verdict is not None and verdict.sans_erreur
    if accepted:
        write_atomic(inbox_dir(parametres.data_root, invitation.territoire, invitation.annee) / name, data,
                     mode=0o640)
    summary = dataclasses.asdict(verdict) if verdict is not None else {}
    summary["refus"] = refus
    depot_id = etat.record_deposit(invitation, sorte.code, name if accepted else None, sha256_of(data), len(data),
                                   accepted, verdict.lignes_lues if verdict else 0,
                                   verdict.lignes_a_corriger if verdict else 0, summary)
    return Resultat(verdict, refus, accepted, name if accepted else None, depot_id)
