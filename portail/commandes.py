"""`bilan portail …`: serve the portal, issue and revoke the partners' links, set a steward's password."""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import logging
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

# light at import: `bilan --help` builds this parser without loading Dagster
if TYPE_CHECKING:
    from core.resources import BilanSettings
    from portail.etat import Etat


def _settings(args: argparse.Namespace) -> BilanSettings:
    from core.resources import BilanSettings

    return BilanSettings(racine_donnees=str(Path(args.donnees).resolve()), sortie=str(Path(args.sortie).resolve()),
                         dossier_config=str(Path(args.config).resolve()))


def _state(parametres: BilanSettings) -> Etat:
    from portail.etat import Etat

    return Etat(parametres.output_dir / "portail" / "portail.sqlite")


def issue(parametres: BilanSettings, etat: Etat, territoire: str, annee: int, base_url: str,
          renew: bool = False, courriels: dict[str, str] | None = None, smtp=None) -> list[list[str]]:
    """A link for each expected partner of the territory without a valid one (all of them with `renew`): rows
    (partner, families, link, expiry, how it was sent). The token is in the link only: the state keeps its hash.
    A partner with an address in `courriels` gets its link by mail when `smtp` is given."""
    import datetime as dt

    from portail.campagne import deadline, expected
    from portail.courriels import send_link

    courriels = courriels or {}
    parametres.config.territoire(territoire)
    now = dt.datetime.now()
    valid = {i.partenaire for i in etat.invitations(territoire, annee) if i.valide(now)}
    days = parametres.config.settings.portail.validite_invitation_jours
    rows = []
    for partenaire, familles in expected(parametres, territoire):
        if partenaire in valid and not renew:
            continue
        if renew:
            etat.revoke(territoire, annee, partenaire)
        courriel = courriels.get(partenaire)
        jeton = etat.invite(territoire, annee, partenaire, familles, days, courriel)
        lien, expire_le = f"{base_url.rstrip('/')}/depot/{jeton}", (now + dt.timedelta(days=days)).date()
        sent = ""
        if smtp is not None and courriel:
            send_link(smtp, parametres.config.territoire(territoire), annee, partenaire, familles, courriel, lien,
                      expire_le, deadline(parametres, territoire, annee))
            sent = f"envoyé à {courriel}"
        rows.append([partenaire, ", ".join(familles), lien, expire_le.isoformat(), sent])
    return rows


def read_contacts(path: Path) -> dict[str, str]:
    """partenaire;courriel, one partner a line (a header line is allowed)."""
    contacts = {}
    for row in csv.reader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"):
        if len(row) >= 2 and "@" in row[1]:
            contacts[row[0].strip()] = row[1].strip()
    return contacts


def invitations(args: argparse.Namespace) -> int:
    from assets.diffusion import Smtp
    from core.common import write_atomic

    parametres = _settings(args)
    etat = _state(parametres)
    contacts = read_contacts(Path(args.courriels)) if args.courriels else {}
    rows = issue(parametres, etat, args.territoire, args.annee, args.url, args.renouveler, contacts,
                 Smtp.from_environment())
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["partenaire", "familles", "lien", "expire_le", "courriel"])
    writer.writerows(rows)
    target = Path(args.csv) if args.csv else parametres.output_dir / "portail" / \
        f"invitations_{args.territoire}_{args.annee}.csv"
    # the links are the partners' keys: owner only
    write_atomic(target, ("\ufeff" + out.getvalue()).encode(), mode=0o600)
    print(f"{len(rows)} lien(s) de dépôt écrit(s) dans {target} (à transmettre à chaque partenaire, personnellement)")
    return 0


def revoquer(args: argparse.Namespace) -> int:
    n = _state(_settings(args)).revoke(args.territoire, args.annee, args.partenaire)
    print(f"{n} lien(s) révoqué(s) pour « {args.partenaire} »" if n else
          f"Aucun lien actif pour « {args.partenaire} » ({args.territoire}, {args.annee})")
    return 0 if n else 1


def referent(args: argparse.Namespace) -> int:
    password = os.environ.get("BILAN_PORTAIL_MOT_DE_PASSE") or getpass.getpass("Mot de passe du référent : ")
    if len(password) < 12:
        print("Mot de passe trop court : 12 caractères au moins", file=sys.stderr)
        return 2
    _state(_settings(args)).set_steward(args.identifiant, password)
    print(f"Référent « {args.identifiant} » enregistré (mot de passe haché, scrypt)")
    return 0


def servir(args: argparse.Namespace) -> int:
    import uvicorn

    from portail.app import create_app

    # one line per request (method, route, status, time; never a token, a file name or a partner)
    log = logging.getLogger("bilan.portail")
    log.setLevel(logging.INFO)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
    if args.demo:
        args.donnees = str(_demo_data(Path(args.sortie).resolve()))
    parametres = _settings(args)
    etat = _state(parametres)
    url = f"http://{args.hote}:{args.port}"
    if args.demo:
        _demo_campaign(parametres, etat, url)
    print(f"Portail de dépôt sur {url} (boîte de dépôt : {parametres.data_root / 'inbox'})", flush=True)
    uvicorn.run(create_app(parametres, etat), host=args.hote, port=args.port, log_level="warning",
                server_header=False, proxy_headers=True)
    return 0


def _demo_data(sortie: Path) -> Path:
    """The demo campaign deposits into a copy of the demo inbox, never into the committed one."""
    from core.config.base import PROJECT_ROOT

    target = sortie / "demo_portail" / "donnees"
    if not target.is_dir():
        shutil.copytree(PROJECT_ROOT / "data" / "demo", target)
    return target


def _demo_campaign(parametres: BilanSettings, etat: Etat, url: str) -> None:
    from core.common import write_atomic

    annee = 2025
    path = parametres.output_dir / "portail" / f"invitations_ccco_{annee}.csv"
    rows = issue(parametres, etat, "ccco", annee, url)
    if rows:
        out = io.StringIO()
        csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([["partenaire", "familles", "lien",
                                                                           "expire_le", "courriel"], *rows])
        write_atomic(path, ("\ufeff" + out.getvalue()).encode(), mode=0o600)
    print(f"Campagne de démonstration CCCO {annee} : liens des partenaires dans {path}")
    for partenaire, _, lien, *_ in rows[:3]:
        print(f"  {partenaire} : {lien}")
    password_file = parametres.output_dir / "portail" / "referent_demo.txt"
    if not password_file.is_file():
        password = secrets.token_urlsafe(12)
        etat.set_steward("referent", password)
        write_atomic(password_file, f"referent {password}\n".encode(), mode=0o600)
    print(f"Tableau de campagne : {url}/campagne (identifiant et mot de passe dans {password_file})")


def add_parser(sub, config_option, year) -> None:
    p = sub.add_parser("portail", help="le portail de dépôt des partenaires (servir, invitations, révocation, "
                                       "référents)")
    actions = p.add_subparsers(dest="action", required=True, title="actions",
                               metavar="{servir,invitations,revoquer,referent}")

    def common(q, territoire: bool = True):
        q.add_argument("--donnees", default=os.environ.get("BILAN_DONNEES", "data/demo"), metavar="DOSSIER",
                       help="dossier des données (la boîte de dépôt inbox/ où vont les fichiers acceptés)")
        q.add_argument("--sortie", default=os.environ.get("BILAN_SORTIE", "sortie"), metavar="DOSSIER",
                       help="dossier de sortie (l'état du portail est dans sortie/portail/)")
        config_option(q)
        if territoire:
            q.add_argument("--territoire", required=True, metavar="CODE", help="le territoire, ex. ccco")
            q.add_argument("--annee", required=True, type=year, help="l'année de la collecte, ex. 2025")

    s = actions.add_parser("servir", help="lance le portail (localhost par défaut)")
    common(s, territoire=False)
    s.add_argument("--hote", default="127.0.0.1", help="adresse d'écoute ; par défaut 127.0.0.1 (derrière un "
                                                       "mandataire inverse TLS : deploiement/README.md)")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--demo", action="store_true", help="campagne de démonstration CCCO 2025 sur une copie de la "
                                                       "boîte de démo (liens et référent créés au besoin)")
    s.set_defaults(func=servir)
    i = actions.add_parser("invitations", help="un lien de dépôt personnel par partenaire attendu, en CSV")
    common(i)
    i.add_argument("--url", default="http://127.0.0.1:8765", help="l'adresse publique du portail")
    i.add_argument("--csv", metavar="FICHIER", help="où écrire les liens ; par défaut sortie/portail/")
    i.add_argument("--renouveler", action="store_true", help="révoquer les liens actifs et en émettre de nouveaux")
    i.add_argument("--courriels", metavar="FICHIER", help="CSV « partenaire;courriel » : chaque lien est aussi envoyé "
                                                         "par courriel (serveur BILAN_SMTP_*), et les relances")
    i.set_defaults(func=invitations)
    r = actions.add_parser("revoquer", help="révoque le lien d'un partenaire")
    common(r)
    r.add_argument("--partenaire", required=True, help="le nom du partenaire, tel que le fichier de territoire le dit")
    r.set_defaults(func=revoquer)
    f = actions.add_parser("referent", help="crée ou change le mot de passe d'un référent données "
                                            "(variable BILAN_PORTAIL_MOT_DE_PASSE, sinon demandé)")
    common(f, territoire=False)
    f.add_argument("--identifiant", required=True)
    f.set_defaults(func=referent)
