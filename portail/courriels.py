"""The portal's mail, through the bilan's delivery (`assets/diffusion.py`): a partner's personal link when it is
issued, and the steward's reminders. A partner without an address is listed for the steward to reach otherwise."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from assets.diffusion import Smtp, send
from core.config.territoire import Territoire


def _send(smtp: Smtp, to: str, territoire: Territoire, annee: int, objet: str, corps: str) -> None:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = f"Bilan {annee} du contrat de ville {territoire.nom_court} : {objet}"
    message.set_content(f"Bonjour,\n\nPour le bilan {annee} du contrat de ville de {territoire.nom}, {corps}\n\nCe "
                        "message est envoyé automatiquement par le portail de dépôt du bilan du contrat de ville.")
    send(smtp, message)


def _by(echeance: dt.date | None, words: str) -> str:
    return f"{words}{echeance.strftime('%d/%m/%Y')}" if echeance else ""


def send_link(smtp: Smtp, territoire: Territoire, annee: int, partenaire: str, familles: list[str], courriel: str,
              lien: str, expire_le: dt.date, echeance: dt.date | None) -> None:
    _send(smtp, courriel, territoire, annee, "votre lien de dépôt",
          f"merci de déposer vos fichiers ({', '.join(familles)}){_by(echeance, ' avant le ')} à l'adresse "
          f"suivante, qui vous est personnelle (valable jusqu'au {expire_le.strftime('%d/%m/%Y')}) :\n\n{lien}\n\n"
          "La page donne les modèles de fichier et vérifie chaque dépôt aussitôt.")


def send_reminder(smtp: Smtp, territoire: Territoire, annee: int, partenaire: str, famille: str, etat: str,
                  courriel: str, expire_le: dt.datetime, echeance: dt.date | None) -> None:
    why = ("votre dernier fichier a été refusé : la page de dépôt liste les lignes à corriger" if etat == "refusé"
           else "nous n'avons pas encore reçu votre fichier")
    _send(smtp, courriel, territoire, annee, f"relance ({famille})",
          f"{why} ({famille}).{_by(echeance, ' La date limite est le ')}{'.' if echeance else ''} Le lien de dépôt "
          f"qui vous a été adressé reste valable jusqu'au {expire_le.strftime('%d/%m/%Y')} ; s'il est perdu, "
          "demandez-en un nouveau au référent données.")
