"""Delivery of a published bilan to its COPIL: by e-mail (SMTP from the environment, recipients in the territory's
file) and/or a copy in a shared folder. Every delivery is recorded (when, to whom, which content) and a bilan is
sent once per content: its content fingerprint (the rows it shows and the report's version, written by the bilan
step in `publication.bilans_publies`), not its PDF bytes, which change with the run id and date on its cover."""

import datetime as dt
import os
import shutil
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import duckdb
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from assets.bilan import last_fingerprint
from core.logging import say
from core.partitions import annee_partitions
from core.resources import BilanSettings

LEDGER = """
CREATE SCHEMA IF NOT EXISTS publication;
CREATE TABLE IF NOT EXISTS publication.diffusions (
    territoire VARCHAR, annee INTEGER, canal VARCHAR, destinataire VARCHAR, empreinte_contenu VARCHAR,
    fichiers VARCHAR, envoye_le TIMESTAMP, run_id VARCHAR);
"""


@dataclass(frozen=True)
class Smtp:
    hote: str
    port: int = 587
    utilisateur: str | None = None
    mot_de_passe: str | None = None
    starttls: bool = True
    expediteur: str = "bilan-quartiers@localhost"

    @classmethod
    def from_environment(cls) -> "Smtp | None":
        host = os.environ.get("BILAN_SMTP_HOTE")
        if not host:
            return None
        return cls(hote=host, port=int(os.environ.get("BILAN_SMTP_PORT", "587")),
                   utilisateur=os.environ.get("BILAN_SMTP_UTILISATEUR") or None,
                   mot_de_passe=os.environ.get("BILAN_SMTP_MOT_DE_PASSE") or None,
                   starttls=os.environ.get("BILAN_SMTP_STARTTLS", "oui").lower() in ("oui", "1", "true"),
                   expediteur=os.environ.get("BILAN_SMTP_EXPEDITEUR", "bilan-quartiers@localhost"))


def send(smtp: Smtp, message: EmailMessage) -> None:
    """One message through the configured server (the bilan to the COPIL, the portal's links and reminders)."""
    if not message["From"]:
        message["From"] = smtp.expediteur
    with smtplib.SMTP(smtp.hote, smtp.port, timeout=30) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.utilisateur:
            client.login(smtp.utilisateur, smtp.mot_de_passe or "")
        client.send_message(message)


def _already(con, territoire: str, annee: int, canal: str, destinataire: str, sha: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM publication.diffusions WHERE territoire = ? AND annee = ? AND "
                            "canal = ? AND destinataire = ? AND empreinte_contenu = ?",
                            [territoire, annee, canal, destinataire, sha]).fetchone()[0])


def _record(con, territoire, annee, canal, destinataire, sha, files, run_id):
    con.execute("INSERT INTO publication.diffusions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [territoire, annee, canal, destinataire, sha, ", ".join(p.name for p in files), dt.datetime.now(),
                 run_id])


def deliver(con: duckdb.DuckDBPyConnection, territoire, annee: int, files: dict[str, Path], sha: str,
            smtp: Smtp | None, run_id: str, log=print) -> list[tuple[str, str]]:
    """Send what has not been sent for this content (`sha`: the bilan's content fingerprint). Returns the
    (canal, destinataire) deliveries made."""
    con.execute(LEDGER)
    if con.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'publication' AND "
                   "table_name = 'diffusions' AND column_name = 'sha256_pdf'").fetchall()[0][0]:
        # a ledger from before content fingerprints: its versions were PDF hashes, never equal to a fingerprint
        con.execute("ALTER TABLE publication.diffusions RENAME COLUMN sha256_pdf TO empreinte_contenu")
    config = territoire.diffusion
    done = []
    if config.destinataires:
        pending = [d for d in config.destinataires if not _already(con, territoire.code, annee, "courriel", d, sha)]
        if pending and smtp is None:
            log("diffusion par courriel impossible : BILAN_SMTP_HOTE n'est pas défini")
        elif pending and smtp is not None:
            limit = config.taille_max_pieces_jointes_mo * 1024 * 1024
            attached, linked, size = [], [], 0
            for kind in ("pdf", "html", "xlsx"):
                if kind not in files:   # a deployment that renders no PDF sends the HTML and the annex
                    continue
                path = files[kind]
                if kind == "pdf" or size + path.stat().st_size <= limit:
                    attached.append(path)
                    size += path.stat().st_size
                else:
                    linked.append(path)
            message = EmailMessage()
            message["Subject"] = f"Bilan {annee} du contrat de ville — {territoire.nom_court}"
            message["From"] = smtp.expediteur
            message["To"] = ", ".join(pending)
            where = (f"\nLes fichiers trop lourds pour ce courriel sont dans le dossier partagé : "
                     f"{', '.join(p.name for p in linked)}.") if linked else ""
            message.set_content(
                f"Bonjour,\n\nVeuillez trouver le bilan {annee} du contrat de ville de {territoire.nom} en vue du "
                f"comité de pilotage.{where}\n\nVersion : empreinte du contenu {sha[:16]}.\n\n"
                "Ce message est envoyé automatiquement par bilan-quartiers.")
            types = {".pdf": ("application", "pdf"), ".html": ("text", "html"),
                     ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
            for path in attached:
                maintype, subtype = types[path.suffix]
                message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
            send(smtp, message)
            for d in pending:
                _record(con, territoire.code, annee, "courriel", d, sha, attached, run_id)
                done.append(("courriel", d))
            log(f"bilan {territoire.code} {annee} envoyé à {', '.join(pending)}")
    if config.dossier_partage:
        target = Path(config.dossier_partage) / territoire.code / str(annee)
        if not _already(con, territoire.code, annee, "dossier", str(target), sha):
            target.mkdir(parents=True, exist_ok=True)
            for path in files.values():
                tmp = target / f".{path.name}.tmp"
                shutil.copyfile(path, tmp)
                os.replace(tmp, target / path.name)
            _record(con, territoire.code, annee, "dossier", str(target), sha, list(files.values()), run_id)
            done.append(("dossier", str(target)))
            log(f"bilan {territoire.code} {annee} copié dans {target}")
    return done


@asset(
    key=AssetKey(["bilan", "diffusion"]),
    group_name="bilan",
    partitions_def=annee_partitions,
    deps=[AssetKey(["bilan", "bilan"])],
    kinds={"email"},
    owners=["team:evaluation"],
    description="Diffusion du bilan au COPIL sans intermédiaire, pour les runs lancés par la planification COPIL "
                "(ou étiquetés bilan/diffuser=oui) : courriel aux destinataires du fichier de territoire, PDF joint, "
                "HTML et annexe joints dans la limite de taille, et/ou copie dans le dossier partagé. Chaque envoi "
                "est enregistré (publication.diffusions) ; une même version n'est jamais envoyée deux fois.",
)
def diffusion(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
    annee = int(context.partition_key)
    tags = context.run.tags if context.run else {}
    if tags.get("bilan/declencheur") != "copil" and tags.get("bilan/diffuser") != "oui":
        say(context, "diffusion : run hors COPIL, rien n'est envoyé (étiquette bilan/diffuser=oui pour forcer)")
        return MaterializeResult(metadata={"envois": 0, "raison": "run hors COPIL"})
    smtp, done = Smtp.from_environment(), []
    with entrepot.get_connection() as con:
        for territoire in parametres.territoires_du_run(context, log=lambda m: say(context, m)):
            folder = parametres.output_dir / str(annee) / territoire.code
            stem = f"bilan_{territoire.code}_{annee}"
            files = {kind: path for kind, path in (("pdf", folder / f"{stem}.pdf"), ("html", folder / f"{stem}.html"),
                                                   ("xlsx", folder / f"{stem}_annexe.xlsx")) if path.is_file()}
            fingerprint = last_fingerprint(con, territoire.code, annee)
            if fingerprint is None:
                say(context, f"diffusion {territoire.code} {annee} : aucun bilan publié, rien à envoyer")
                continue
            done += deliver(con, territoire, annee, files, fingerprint, smtp, context.run_id,
                            lambda m: say(context, m))
    return MaterializeResult(metadata={"envois": len(done), "destinataires": MetadataValue.md(
        "\n".join(f"- {c} : {d}" for c, d in done) or "aucun nouvel envoi")})
