"""Delivery to the COPIL through a real SMTP server started on loopback by the test; never twice per version."""

from __future__ import annotations

import duckdb
import pytest

from assets.diffusion import deliver
from core.config.territoire import Diffusion


def _files(tmp_path, pdf=b"%PDF-1.7 bilan v1"):
    folder = tmp_path / "sortie"
    folder.mkdir(exist_ok=True)
    files = {"pdf": folder / "bilan_ccco_2025.pdf", "html": folder / "bilan_ccco_2025.html",
             "xlsx": folder / "bilan_ccco_2025_annexe.xlsx"}
    files["pdf"].write_bytes(pdf)
    files["html"].write_bytes(b"<html>" + b"x" * 200_000 + b"</html>")
    files["xlsx"].write_bytes(b"PK xlsx")
    return files


def test_sent_once_per_version_with_attachments_and_a_record(tmp_path, config, smtp_server):
    inbox, smtp = smtp_server
    territoire = config.territoire("ccco").model_copy(update={"diffusion": Diffusion(
        destinataires=["copil@exemple.fr", "prefecture@exemple.fr"], dossier_partage=str(tmp_path / "partage"),
        taille_max_pieces_jointes_mo=0.1)})
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    files = _files(tmp_path)

    done = deliver(con, territoire, 2025, files, "contenu-v1", smtp, "run-1", log=lambda m: None)
    assert sorted(c for c, _ in done) == ["courriel", "courriel", "dossier"]
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["Subject"] == "Bilan 2025 du contrat de ville — CCCO"
    assert "copil@exemple.fr" in message["To"] and "prefecture@exemple.fr" in message["To"]
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == ["bilan_ccco_2025.pdf", "bilan_ccco_2025_annexe.xlsx"]     # the 200 kB HTML is over the limit
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "dossier partagé" in body and "bilan_ccco_2025.html" in body
    assert (tmp_path / "partage" / "ccco" / "2025" / "bilan_ccco_2025.html").exists()
    recorded = con.execute("SELECT canal, destinataire, run_id FROM publication.diffusions ORDER BY ALL").fetchall()
    assert len(recorded) == 3 and all(r[2] == "run-1" for r in recorded)

    files = _files(tmp_path, pdf=b"%PDF-1.7 bilan v1, run 2")                    # re-rendered: new bytes, same content
    assert deliver(con, territoire, 2025, files, "contenu-v1", smtp, "run-2", log=lambda m: None) == []
    assert len(inbox.messages) == 1                                             # same content: not sent again

    files = _files(tmp_path, pdf=b"%PDF-1.7 bilan v2")                           # a new content of the bilan
    assert len(deliver(con, territoire, 2025, files, "contenu-v2", smtp, "run-3", log=lambda m: None)) == 3
    assert len(inbox.messages) == 2


def test_without_smtp_settings_nothing_is_sent_and_it_says_so(tmp_path, config):
    territoire = config.territoire("ccco").model_copy(update={"diffusion": Diffusion(destinataires=["a@b.fr"])})
    said = []
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert deliver(con, territoire, 2025, _files(tmp_path), "contenu", None, "r", log=said.append) == []
    assert "BILAN_SMTP_HOTE" in said[0]


def test_recipients_are_validated_when_loaded():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="adresse"):
        Diffusion(destinataires=["copil-sans-arobase"])
