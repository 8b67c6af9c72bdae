"""The steward's board of a year's campaign: for each territory, each expected partner and family — received,
accepted, refused rows, last deposit, silent — from the invitations and deposits of the portal's state."""

from __future__ import annotations

import datetime as dt

from core.resources import BilanSettings
from portail.etat import Etat


def expected(parametres: BilanSettings, territoire: str) -> list[tuple[str, list[str]]]:
    """The partners a territory's file expects files from: its partners (their families) and its landlords
    (TFPB)."""
    t = parametres.config.territoire(territoire)
    return [*((p.nom, list(p.familles)) for p in t.partenaires_attendus), *((b, ["tfpb"]) for b in t.bailleurs)]


def board_rows(parametres: BilanSettings, etat: Etat, annee: int) -> list[dict]:
    rows = []
    now = dt.datetime.now()
    for code in parametres.config.territoires:
        invitations = {i.partenaire: i for i in etat.invitations(code, annee) if i.valide(now)}
        for partenaire, familles in expected(parametres, code):
            invitation = invitations.get(partenaire)
            deposits = etat.deposits(invitation) if invitation else []
            reminders = len(etat.reminders(invitation)) if invitation else 0
            for famille in familles:
                mine = [d for d in deposits if d["famille"] == famille or d["famille"].startswith(f"{famille}_")]
                last = mine[0] if mine else None
                state = ("sans invitation" if invitation is None else "silencieux" if last is None
                         else "accepté" if last["accepte"] else "refusé")
                rows.append({"territoire": code, "partenaire": partenaire, "famille": famille, "etat": state,
                             "depots": len(mine), "lignes_a_corriger": last["lignes_a_corriger"] if last else 0,
                             "dernier_depot": last["recu_le"] if last else "", "relances": reminders,
                             "echeance": deadline(parametres, code, annee) or "", "invitation": invitation})
    return rows


def deadline(parametres: BilanSettings, territoire: str, annee: int) -> dt.date | None:
    """The campaign's deadline: the date of the COPIL that adopts the year's bilan, less the configured delay."""
    t = parametres.config.territoire(territoire)
    copil = next((c.date for c in t.copil if c.annee_bilan == annee), None)
    delay = dt.timedelta(days=parametres.config.settings.portail.delai_avant_copil_jours)
    return None if copil is None else copil - delay
