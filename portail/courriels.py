"""The portal's mail, through the bilan's delivery (`assets/diffusion.py`): a partner's personal link when it is
issued, and the steward's reminders. A partner without an address is listed for the steward to reach otherwise."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from assets.diffusion import Smtp, send
from core.config.territoire import Territoire


def _message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["To"], message["Subject"] = to, subject
    message.set_content(body + "\n\nCe message est envoyé automatiquement par le portail de dépôt du bilan du contrat "
                               "de ville.")
    return message


def send_link(smtp: Smtp, territoire: Territoire, annee: int, partenaire: str, familles: list[str], courriel: str,
              lien: str, expire_le: dt.date, echeance: dt.date | None) -> None:
    by = f" avant le {echeance.strftime('%d/%m/%Y')}" if echeance else ""
    send(smtp, _message(courriel, f"Bilan {annee} du contrat de ville {territoire.nom_court} : votre lien de dépôt",
                        f"Bonjour,\n\nPour le bilan {annee} du contrat de ville de {territoire.nom}, merci de déposer "
                        f"vos fichiers ({', '.join(familles)}){by} à l'adresse suivante, qui vous est personnelle "
                        f"(valable jusqu'au {expire_le.strftime('%d/%m/%Y')}) :\n\n{lien}\n\nLa page donne les "
                        "modèles de fichier et vérifie chaque dépôt aussitôt."))


def send_reminder(smtp: Smtp, territoire: Territoire, annee: int, partenaire: str, famille: str, etat: str,
                  courriel: str, expire_le: dt.datetime, echeance: dt.date | None) -> None:
    why = ("votre dernier fichier a été refusé : la page de dépôt liste les lignes à corriger" if etat == "refusé"
           else "nous n'avons pas encore reçu votre fichier")
    by = f" La date limite est le {echeance.strftime('%d/%m/%Y')}." if echeance else ""
    send(smtp, _message(courriel, f"Bilan {annee} du contrat de ville {territoire.nom_court} : relance ({famille})",
                        f"Bonjour,\n\nPour le bilan {annee} du contrat de ville de {territoire.nom}, {why} "
                        f"({famille}).{by} Le lien de dépôt qui vous a été adressé reste valable jusqu'au "
                        f"{expire_le.strftime('%d/%m/%Y')} ; s'il est perdu, demandez-en un nouveau au référent "
                        "données."))
