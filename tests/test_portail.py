"""The deposit portal in a real browser (Playwright, Chromium): a partner deposits a wrong file, reads the refused
rows, corrects and deposits again; the steward's board changes; another partner cannot reach the first one's
deposit; a file over the size limit and a zip bomb are refused in French; axe-core finds no serious violation."""

from __future__ import annotations

import base64
import io
import re
import threading
import time
import zipfile
from pathlib import Path

import pytest
import uvicorn
import yaml

from core.resources import BilanSettings
from portail.app import create_app
from portail.commandes import issue
from portail.etat import Etat
from tests.conftest import DEMO_DATA, config_copy
from tests.test_accessibilite import CHROMIUM, SERIOUS

CAF = DEMO_DATA / "inbox" / "ccco" / "2025" / "engagements_2025_caf_du_nord.csv"
PASSWORD = "mot-de-passe-du-referent"


@pytest.fixture(scope="module")
def portail(tmp_path_factory):
    root = tmp_path_factory.mktemp("portail")
    config = config_copy(root)
    settings = yaml.safe_load((config.dir / "settings.yaml").read_text(encoding="utf-8"))
    settings["limites"]["taille_fichier_mo"] = 0.05          # 50 kB: the oversized deposit stays small
    (config.dir / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    (root / "donnees" / "inbox" / "ccco" / "2025").mkdir(parents=True)
    parametres = BilanSettings(racine_donnees=str(root / "donnees"), sortie=str(root / "sortie"),
                               dossier_config=str(config.dir))
    etat = Etat(parametres.output_dir / "portail" / "portail.sqlite")
    etat.set_steward("referent", PASSWORD)
    server = uvicorn.Server(uvicorn.Config(create_app(parametres, etat), host="127.0.0.1", port=0,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    links = {row[0]: row[2] for row in issue(parametres, etat, "ccco", 2025, url)}
    yield parametres, url, links
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from tools.screenshot import FLAGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield browser
        browser.close()


def _deposit(page, sorte: str, name: str, data: bytes) -> None:
    page.select_option("#sorte", sorte)
    page.set_input_files("#fichier", files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}])
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS]


def test_links_are_issued_for_every_expected_partner_and_stored_as_hashes_only(portail):
    parametres, _, links = portail
    assert {"CAF du Nord", "Maisons et Cités", "Préfecture du Nord"} <= set(links)
    state = (parametres.output_dir / "portail" / "portail.sqlite").read_bytes()
    for link in links.values():
        assert link.rsplit("/", 1)[1].encode() not in state


def test_a_partner_deposits_a_wrong_file_reads_the_refused_rows_corrects_it_and_deposits_again(portail, browser):
    parametres, url, links = portail
    page = browser.new_page()
    page.goto(links["CAF du Nord"])
    assert "Dépôt des fichiers 2025 — CAF du Nord" in page.inner_text("h1")
    assert _serious(page) == []
    with page.expect_download() as download:
        page.click("text=engagements (CSV ou XLSX) — modèle CSV")
    template = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert template.splitlines()[0].startswith("partenaire;type_partenaire;annee;code_objectif;engagement")

    wrong = CAF.read_bytes().replace(b";nombre;10;8;", b";places;10;8;", 1)
    _deposit(page, "engagements", "mes engagements.csv", wrong)
    assert page.inner_text("#reponse") == "Fichier refusé"
    assert "3 lignes lues : 2 correctes, 1 à corriger" in page.inner_text("main")
    row = page.inner_text("tbody tr >> nth=0")
    assert "2\tunite\tplaces\tligne à corriger" in row and "« places » n'est pas une valeur autorisée" in row
    inbox = parametres.data_root / "inbox" / "ccco" / "2025"
    assert list(inbox.iterdir()) == []                                  # a refused file never reaches the inbox
    assert _serious(page) == []

    _deposit(page, "engagements", "mes engagements.csv", CAF.read_bytes())
    assert page.inner_text("#reponse") == "Fichier accepté"
    assert [p.name for p in inbox.iterdir()] == ["engagements_2025_caf-du-nord.csv"]
    assert (inbox / "engagements_2025_caf-du-nord.csv").read_bytes() == CAF.read_bytes()
    history = page.inner_text("table >> nth=-1")
    assert history.count("refusé") == 1 and history.count("accepté") == 1
    page.close()


def test_after_the_territorys_run_the_partner_reads_what_its_file_fed(portail, browser):
    """The deposit reaches the inbox the pipeline reads: a run scoped to the territory publishes the partner's
    feedback, which its page then shows (« Données utilisées ») and lets it download."""
    from dagster import DagsterInstance, materialize

    from core.portee import TAG
    from core.resources import warehouse
    from pipelines.definitions import ALL_ASSETS

    parametres, _, links = portail
    result = materialize(ALL_ASSETS, partition_key="2025", instance=DagsterInstance.ephemeral(),
                         tags={TAG: "ccco"}, selection=[k for a in ALL_ASSETS for k in a.keys
                                                       if k.path[0] != "bilan"],
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    assert result.success
    page = browser.new_page()
    page.goto(links["CAF du Nord"])
    fed = page.inner_text("table >> nth=-1")
    assert "Ce que votre fichier engagements a alimenté dans le bilan" in page.inner_text("main")
    # the CAF declared 97 920 € + 392 700 € of droit commun: the bilan's territory figure counts its file
    assert re.search(r"engagements\.montant_droit_commun\tterritoire \(CCCO\)\tCAF du Nord", fed)
    with page.expect_download() as download:
        page.click("text=classeur de retour (données utilisées)")
    assert download.value.suggested_filename == "retour_engagements_2025_caf-du-nord.csv.xlsx"
    assert _serious(page) == []
    page.close()


def test_the_stewards_board_follows_the_deposits_and_needs_a_password(portail, browser):
    _, url, links = portail
    anonymous = browser.new_context()
    refused = anonymous.request.get(f"{url}/campagne")
    assert refused.status == 401 and refused.headers["www-authenticate"].startswith("Basic")
    anonymous.close()
    context = browser.new_context(http_credentials={"username": "referent", "password": PASSWORD})
    page = context.new_page()
    page.goto(f"{url}/campagne?annee=2025")
    text = page.inner_text("tbody")
    assert re.search(r"ccco\tCAF du Nord\tengagements\taccepté\t2\t0", text)
    assert re.search(r"ccco\tSIGH\ttfpb\tsilencieux\t0", text)
    assert _serious(page) == []
    page.click("text=Relancer les partenaires silencieux ou refusés")
    assert "relance(s) enregistrée(s)" in page.inner_text("[role=status]")
    assert "CAF du Nord" not in page.inner_text("[role=status]")
    export = context.request.get(f"{url}/campagne.csv?annee=2025").text()
    assert "ccco;CAF du Nord;engagements;accepté;2;0;" in export
    context.close()


def test_a_partner_never_reaches_another_partners_deposit_or_an_unknown_link(portail, browser):
    _, url, links = portail
    page = browser.new_page()
    caf_deposit = f"{links['CAF du Nord']}/retour/1"
    other = links["SIGH"]
    assert page.goto(f"{other}/retour/1").status == 404
    assert page.goto(f"{other}/retour/2").status == 404
    assert page.goto(caf_deposit.replace(links["CAF du Nord"].rsplit("/", 1)[1], "x" * 43)).status == 404
    assert "Ce lien n'existe pas, a expiré ou a été révoqué" in page.inner_text("main")
    assert page.goto(f"{other}/modele/engagements.csv").status == 404   # not a family it deposits
    page.close()


def test_an_oversized_file_and_a_zip_bomb_are_refused_in_french(portail, browser):
    parametres, _, links = portail
    page = browser.new_page()
    page.goto(links["SIGH"])
    _deposit(page, "tfpb", "gros.xlsx", b"x" * 200_000)
    assert "dépasse 0,05 Mo, la taille maximale d'un dépôt" in page.inner_text("[role=alert]")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "0" * 30_000_000)
    assert len(bomb.getvalue()) < 50_000
    _deposit(page, "tfpb", "tfpb.xlsx", bomb.getvalue())
    assert page.inner_text("#reponse") == "Fichier refusé"
    assert re.search(r"décompress|compress", page.inner_text("[role=alert]"))
    assert list((parametres.data_root / "inbox" / "ccco" / "2025").glob("tfpb*")) == []
    page.close()


def test_every_answer_carries_the_security_headers_and_forms_need_their_token(portail, browser):
    _, url, links = portail
    context = browser.new_context()
    answer = context.request.get(links["CAF du Nord"])
    headers = answer.headers
    assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in headers["content-security-policy"]
    forged = context.request.post(links["CAF du Nord"], multipart={
        "csrf": "faux", "sorte": "engagements",
        "fichier": {"name": "e.csv", "mimeType": "text/csv", "buffer": CAF.read_bytes()}})
    assert forged.status == 403 and "Traceback" not in forged.text()
    basic = base64.b64encode(f"referent:{PASSWORD}".encode()).decode()
    assert context.request.post(f"{url}/campagne", headers={"Authorization": f"Basic {basic}"},
                                form={"csrf": "faux"}).status == 403
    huge = context.request.post(f"{url}/campagne", headers={"Authorization": f"Basic {basic}"},
                                form={"csrf": "x" * 200_000})
    assert huge.status == 413 and "dépasse 0,05 Mo" in huge.text()
    context.close()



def test_links_and_reminders_go_by_mail_where_the_steward_gave_an_address(tmp_path, smtp_server):
    """`bilan portail invitations --courriels` mails each link; a reminder goes to the partners still silent, by
    mail where there is an address, listed for the steward otherwise."""
    from portail.app import remind
    from portail.commandes import read_contacts

    inbox, smtp = smtp_server
    parametres = BilanSettings(racine_donnees=str(tmp_path / "d"), sortie=str(tmp_path / "s"))
    etat = Etat(parametres.output_dir / "portail" / "portail.sqlite")
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("partenaire;courriel\nCAF du Nord;depots@caf.exemple.fr\n", encoding="utf-8")
    rows = issue(parametres, etat, "ccco", 2025, "https://depot.exemple.fr", courriels=read_contacts(contacts),
                 smtp=smtp)
    caf = next(r for r in rows if r[0] == "CAF du Nord")
    assert caf[4] == "envoyé à depots@caf.exemple.fr"
    (link_mail,) = inbox.messages
    assert link_mail["To"] == "depots@caf.exemple.fr"
    assert caf[2] in link_mail.get_content() and "avant le 17/02/2026" in link_mail.get_content()

    done = remind(parametres, etat, 2025, "referent", smtp)
    assert "CAF du Nord (ccco, engagements, courriel envoyé)" in done
    assert "SIGH (ccco, tfpb, sans adresse : à relancer par vos soins)" in done
    reminder = inbox.messages[-1]
    assert reminder["To"] == "depots@caf.exemple.fr" and "relance (engagements)" in reminder["Subject"]
    assert caf[2] not in reminder.get_content()                         # a reminder never carries the link again
    assert len(inbox.messages) == 2


def test_the_log_never_names_a_token_and_a_link_is_rate_limited(portail, browser, caplog):
    import logging

    _, url, links = portail
    caplog.set_level(logging.INFO, logger="bilan.portail")
    link = links["Norévie"]
    token = link.rsplit("/", 1)[1]
    context = browser.new_context()
    statuses = [context.request.get(link).status for _ in range(31)]   # portail.requetes_par_minute: 30
    context.close()
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    lines = [r.getMessage() for r in caplog.records if r.name == "bilan.portail"]
    assert any(line.startswith("GET /depot/… 429") for line in lines)
    assert not any(token in line or "Norévie" in line for line in lines)
