"""The deposit portal: a partner's page (templates, deposit, the verifier's answer at once, its feedback once the
territory's run has published) and the steward's campaign board. Starlette and Jinja, no JavaScript.

What faces the internet is bounded here: a body larger than the files' limit is cut while it streams in, a link
makes at most `portail.requetes_par_minute` requests a minute, every form carries a CSRF token, every answer
carries security headers (no referrer: the link is the partner's key), no stack trace is ever shown, and the log
names a request by its method, route and status — never a token, a file name or a partner."""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import hmac
import io
import logging
import time
from collections import defaultdict, deque
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from assets.diffusion import Smtp
from assets.retours import feedback_name
from core.familles.registry import build_families
from core.resources import BilanSettings
from portail.campagne import board_rows, deadline
from portail.courriels import send_reminder
from portail.depot import Sorte, deposit, sortes
from portail.etat import Etat, Invitation
from portail.modeles import csv_template, xlsx_template

HERE = Path(__file__).parent
log = logging.getLogger("bilan.portail")
# a multipart envelope around the file: its headers and the other fields
ENVELOPE = 64 * 1024


def _page(env: jinja2.Environment, name: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(env.get_template(name).render(**context), status_code=status)


class TooLarge(Exception):
    pass


def create_app(parametres: BilanSettings, etat: Etat | None = None, smtp: Smtp | None = None) -> Guard:
    """The portal's application; `smtp`: the mail server for reminders (by default BILAN_SMTP_*, none if unset)."""
    etat = etat or Etat(parametres.output_dir / "portail" / "portail.sqlite")
    smtp = smtp or Smtp.from_environment()
    settings = parametres.config.settings
    limit = int(settings.limites.taille_fichier_mo * 1024 * 1024)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    env.globals["taille_max_mo"] = f"{settings.limites.taille_fichier_mo:g}".replace(".", ",")
    env.filters["horodatage"] = _timestamp
    requests: dict[str, deque[float]] = defaultdict(deque)
    # the families from their contracts, read once: a page answers in milliseconds, not in a second
    families = build_families(parametres.config)

    def invitation_of(request: Request) -> Invitation:
        jeton = request.path_params["jeton"]
        invitation = etat.invitation(jeton)
        # an unknown, expired or revoked link and another partner's resource answer the same: not found
        if invitation is None or not invitation.valide(dt.datetime.now()):
            raise HTTPException(404)
        window = requests[invitation.empreinte_jeton]
        now = time.monotonic()
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= settings.portail.requetes_par_minute:
            raise HTTPException(429)
        window.append(now)
        return invitation

    def partner_page(request: Request, invitation: Invitation, status: int = 200, resultat=None,
                     message: str | None = None) -> HTMLResponse:
        territoire = parametres.config.territoire(invitation.territoire)
        deposits = etat.deposits(invitation)
        retours = parametres.output_dir / str(invitation.annee) / "retours" / invitation.territoire
        for d in deposits:
            d["retour"] = bool(d["fichier_boite"]) and (retours / feedback_name(d["fichier_boite"])).is_file()
        # what the latest accepted file of each kind fed, once the territory's run has published its feedback
        used = {}
        for d in deposits:
            if d["retour"] and d["famille"] not in used:
                used[d["famille"]] = figures_used(retours / feedback_name(d["fichier_boite"]))
        return _page(env, "depot.html.j2", status, invitation=invitation, territoire=territoire, utilises=used,
                     sortes=sortes(parametres, invitation, families), depots=deposits, resultat=resultat,
                     message=message,
                     jeton=request.path_params["jeton"], csrf=etat.csrf(invitation.empreinte_jeton),
                     echeance=deadline(parametres, invitation.territoire, invitation.annee))

    async def depot(request: Request) -> Response:
        invitation = invitation_of(request)
        if request.method == "GET":
            return partner_page(request, invitation)
        try:
            form = await request.form(max_files=1, max_fields=4)
        except TooLarge:
            return partner_page(request, invitation, 413, message=(
                f"Fichier refusé : il dépasse {env.globals['taille_max_mo']} Mo, la taille maximale d'un "
                "dépôt. Déposez un fichier plus petit (un fichier par année et par famille)."))
        if not hmac.compare_digest(str(form.get("csrf", "")), etat.csrf(invitation.empreinte_jeton)):
            raise HTTPException(403)
        choices = sortes(parametres, invitation, families)
        sorte: Sorte | None = choices.get(str(form.get("sorte", "")))
        upload = form.get("fichier")
        if sorte is None or upload is None or isinstance(upload, str) or not upload.filename:
            return partner_page(request, invitation, 400, message="Choisissez le type de fichier et le fichier "
                                                                  "à déposer.")
        data = await upload.read()
        resultat = deposit(parametres, etat, invitation, sorte, upload.filename, data, families)
        log.info("depot territoire=%s annee=%s sorte=%s accepte=%s taille=%d", invitation.territoire,
                 invitation.annee, sorte.code, resultat.depose, len(data))
        return partner_page(request, invitation, 200 if resultat.depose else 422, resultat=resultat)

    def modele(request: Request) -> Response:
        invitation = invitation_of(request)
        name = request.path_params["nom"]
        code, _, kind = name.rpartition(".")
        sorte = sortes(parametres, invitation, families).get(code)
        if sorte is None or f".{kind}" not in sorte.suffixes:
            raise HTTPException(404)
        family = families[sorte.famille]
        if kind == "xlsx":
            data = xlsx_template(family, parametres.config, invitation.territoire, invitation.annee)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            table = family.tables[0] if len(family.tables) == 1 else \
                next(t for t in family.tables if f"{family.name}_{t.sheet}" == code)
            data = csv_template(family, table, parametres.config, invitation.territoire, invitation.annee)
            media = "text/csv; charset=utf-8"
        return Response(data, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="modele_{code}_{invitation.annee}.{kind}"'})

    def retour(request: Request) -> Response:
        invitation = invitation_of(request)
        try:
            depot_id = int(request.path_params["depot"])
        except ValueError:
            raise HTTPException(404) from None
        mine = next((d for d in etat.deposits(invitation) if d["id"] == depot_id and d["fichier_boite"]), None)
        if mine is None:
            raise HTTPException(404)
        path = (parametres.output_dir / str(invitation.annee) / "retours" / invitation.territoire
                / feedback_name(mine["fichier_boite"]))
        if not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, filename=path.name)

    def steward(request: Request) -> str:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, password = "", ""
            if user and etat.check_steward(user, password):
                return user
        raise HTTPException(401, headers={"WWW-Authenticate": 'Basic realm="Campagne de collecte", charset="UTF-8"'})

    async def campagne(request: Request) -> Response:
        user = steward(request)
        annee = _year(request, settings.annees)
        message = None
        if request.method == "POST":
            form = await request.form(max_files=0, max_fields=4)
            if not hmac.compare_digest(str(form.get("csrf", "")), etat.csrf(f"referent|{user}")):
                raise HTTPException(403)
            sent = remind(parametres, etat, annee, user, smtp)
            message = (f"{len(sent)} relance(s) enregistrée(s) : " + ", ".join(sent)) if sent else \
                "Aucun partenaire à relancer."
        rows = board_rows(parametres, etat, annee)
        return _page(env, "campagne.html.j2", lignes=rows, annee=annee, annees=settings.annees, message=message,
                     csrf=etat.csrf(f"referent|{user}"), echeances={
                         t: deadline(parametres, t, annee) for t in parametres.config.territoires})

    def campagne_csv(request: Request) -> Response:
        steward(request)
        annee = _year(request, settings.annees)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        columns = ["territoire", "partenaire", "famille", "etat", "depots", "lignes_a_corriger", "dernier_depot",
                   "relances", "echeance"]
        writer.writerow(columns)
        for r in board_rows(parametres, etat, annee):
            writer.writerow([r[c] for c in columns])
        return Response(("\ufeff" + out.getvalue()).encode(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="campagne_{annee}.csv"'})

    def accueil(request: Request) -> Response:
        return _page(env, "accueil.html.j2")

    async def erreur(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 413 if isinstance(exc, TooLarge) else 500
        if status == 500:
            log.error("erreur interne sur %s %s", request.method, request.scope.get("route_name", "?"),
                      exc_info=exc)
        response = _page(env, "erreur.html.j2", status, statut=status)
        if isinstance(exc, HTTPException) and exc.headers:
            response.headers.update(exc.headers)
        return response

    app = Starlette(routes=[
        Route("/", accueil),
        Route("/depot/{jeton}", depot, methods=["GET", "POST"]),
        Route("/depot/{jeton}/modele/{nom}", modele),
        Route("/depot/{jeton}/retour/{depot}", retour),
        Route("/campagne", campagne, methods=["GET", "POST"]),
        Route("/campagne.csv", campagne_csv),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ], exception_handlers={HTTPException: erreur, TooLarge: erreur, Exception: erreur})
    return Guard(app, limit + ENVELOPE)


def figures_used(workbook: Path, limit: int = 200) -> tuple[list[str], list[list]]:
    """The « Données utilisées » sheet of a feedback workbook (assets/retours.py): the bilan's figures the file fed."""
    from openpyxl import load_workbook

    book = load_workbook(workbook, read_only=True)
    try:
        if "Données utilisées" not in book.sheetnames:
            return [], []
        rows = [["" if v is None else v for v in r] for r in book["Données utilisées"].iter_rows(values_only=True)]
    finally:
        book.close()
    return ([str(c) for c in rows[0]], rows[1:limit + 1]) if rows else ([], [])


def _timestamp(value: str) -> str:
    """« 2026-12-07T20:21:17 » → « 07/12/2026 à 20:21 »."""
    return dt.datetime.fromisoformat(value).strftime("%d/%m/%Y à %H:%M") if value else ""


def _year(request: Request, annees: list[int]) -> int:
    value = request.query_params.get("annee", "")
    if value.isdigit() and int(value) in annees:
        return int(value)
    this = dt.date.today().year - 1
    return this if this in annees else annees[0]


def remind(parametres: BilanSettings, etat: Etat, annee: int, user: str, smtp: Smtp | None = None) -> list[str]:
    """A reminder to each partner silent or whose last deposit was refused: mailed when its invitation has an
    address and a mail server is configured (BILAN_SMTP_*), recorded in every case; what was done, per partner."""
    done = []
    for row in board_rows(parametres, etat, annee):
        invitation = row["invitation"]
        if row["etat"] not in ("silencieux", "refusé") or invitation is None:
            continue
        if smtp is not None and invitation.courriel:
            send_reminder(smtp, parametres.config.territoire(invitation.territoire), annee, invitation.partenaire,
                          row["famille"], row["etat"], invitation.courriel, invitation.expire_le,
                          row["echeance"] or None)
            how = "courriel envoyé"
        else:
            how = "sans adresse : à relancer par vos soins"
        etat.record_reminder(invitation, f"{row['etat']} ({row['famille']}) — {how}", user)
        done.append(f"{row['partenaire']} ({row['territoire']}, {row['famille']}, {how})")
    return done


class Guard:
    """ASGI wrapper: security headers on every answer, request bodies cut past `limit` bytes while they stream,
    and one log line per request without anything personal."""

    HEADERS = [(b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
               (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
               (b"x-frame-options", b"DENY"), (b"cache-control", b"no-store"),
               (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [0]
        declared = dict(scope.get("headers") or []).get(b"content-length")
        received = [0]

        async def bounded_receive():
            message = await receive()
            if message["type"] == "http.request":
                received[0] += len(message.get("body", b""))
                if received[0] > self.limit:
                    raise TooLarge()
            return message

        async def with_headers(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *self.HEADERS]}
            await send(message)

        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            # refused before a byte of the body is read; the page says why
            scope = {**scope, "bilan.trop_gros": True}
        try:
            await self.app(scope, bounded_receive if not scope.get("bilan.trop_gros") else _too_large_receive,
                           with_headers)
        finally:
            route = "/depot/…" if scope["path"].startswith("/depot/") else scope["path"]
            log.info("%s %s %s %.0f ms", scope["method"], route, status[0], 1000 * (time.perf_counter() - started))


async def _too_large_receive():
    raise TooLarge()

