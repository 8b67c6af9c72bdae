"""`make bench`: a benchmark, not a test. Measures in one go, on this machine, and writes bench/RESULTS.md:

- the demo year end to end, beside the import floor of the stack (a process that only imports it), as a ratio;
- the synthetic national dataset (tools/generate_national.py) at each scale (default 1, 10, 100 and 435
  territories): generation time, the year end to end, each step's time (Dagster step events), the peak memory of
  the process tree (RSS polled from /proc), the cost per territory;
- at the largest scale: the marts as the pipeline materialises them beside the same SQL run bare in DuckDB on a
  copy of the same staged warehouse, as a ratio; a second run with nothing changed; a run after one territory's file
  changed;
- a valid file at the documented row limit (bench/fichier_limite.py: the demo inbox plus an engagements file of
  `limites.lignes` rows), `bilan run --annee 2025` on it as a user runs it: wall time, peak memory of the process
  tree, the bilan's files, every row of the file accepted (issue 28). About 11 minutes: a benchmark case, not a test.

    python bench/run_bench.py [--echelles "1 10 100 435"] [--sans-bilan] [--travail /tmp/bilan-bench]
                              [--sans-fichier-limite | --seulement-fichier-limite]

`--sans-bilan` (or BENCH_SANS_BILAN=1) leaves out the bilan step (HTML + PDF per territory and commune, the slow
part at national scale). Ratios are measured side by side in the same run: the machine may be shared and noisy.
`--sans-fichier-limite` (or BENCH_SANS_FICHIER_LIMITE=1) leaves out the file at the row limit;
`--seulement-fichier-limite` measures it alone and rewrites only its own section and targets row in RESULTS.md
(the other sections keep the passage that measured them).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# the PDF engine is Chromium, driven by playwright (reports/pdf.py)
STACK = ["dagster", "great_expectations", "pandas", "duckdb", "altair", "pandera", "playwright.sync_api"]
ECHELLES = [1, 10, 100, 435]


# --- measuring a process tree ----------------------------------------------------------------------


def _enfants() -> dict[int, list[int]]:
    arbre: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            arbre.setdefault(ppid, []).append(int(d))
    return arbre


def _rss_arbre(pid: int) -> int:
    arbre, total, pile = _enfants(), 0, [pid]
    while pile:
        p = pile.pop()
        pile += arbre.get(p, [])
        try:
            for ligne in Path(f"/proc/{p}/status").read_text().splitlines():
                if ligne.startswith("VmRSS:"):
                    total += int(ligne.split()[1]) * 1024
        except OSError:
            pass
    return total


def mesurer(cmd: list[str], env: dict | None = None, journal: Path | None = None) -> dict:
    """Wall time, peak RSS of the whole process tree (polled every 0.2 s), exit code."""
    debut = time.perf_counter()
    sortie = open(journal, "w") if journal else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=sortie, stderr=subprocess.STDOUT)
    pic = [0]

    def sonder():
        while proc.poll() is None:
            pic[0] = max(pic[0], _rss_arbre(proc.pid))
            time.sleep(0.2)

    sonde = threading.Thread(target=sonder, daemon=True)
    sonde.start()
    code = proc.wait()
    sonde.join()
    if journal:
        sortie.close()
    return {"secondes": time.perf_counter() - debut, "pic_rss": pic[0], "code": code}


def pipeline(donnees: Path, sortie: Path, config: Path, home: Path, sans_bilan: bool, nom: str,
             seulement: str | None = None, processus: int = 1, territoire: str | None = None) -> dict:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "deploiement" / "dagster.sqlite.yaml", home / "dagster.yaml")
    rapport = sortie.parent / f"{nom}.json"
    cmd = [PYTHON, str(ROOT / "bench" / "pipeline.py"), "--donnees", str(donnees), "--sortie", str(sortie),
           "--config", str(config), "--annee", "2025", "--rapport", str(rapport)]
    cmd += ["--sans-bilan"] if sans_bilan else []
    cmd += ["--seulement", seulement] if seulement else []
    cmd += ["--processus", str(processus)] if processus > 1 else []
    cmd += ["--territoire", territoire] if territoire else []
    env = {"PYTHONPATH": str(ROOT), "DAGSTER_HOME": str(home)}  # the pseudonymisation key as the user has it
    print(f"  … {nom}", flush=True)
    m = mesurer(cmd, env, sortie.parent / f"{nom}.log")
    m["rapport"] = json.loads(rapport.read_text()) if rapport.is_file() else {"succes": False, "runs": []}
    m["succes"] = m["code"] == 0 and m["rapport"].get("succes", False)
    echecs = [e for r in m["rapport"]["runs"] for e in r["echecs"]]
    print(f"    {m['secondes']:.1f} s, pic {m['pic_rss'] / 2**20:.0f} Mo, "
          f"{'réussi' if m['succes'] else 'ÉCHEC ' + ', '.join(echecs)}", flush=True)
    return m


# --- the machine -----------------------------------------------------------------------------------


def machine() -> dict:
    cpu = next((ligne_.split(":", 1)[1].strip() for ligne_ in Path("/proc/cpuinfo").read_text().splitlines()
                if ligne_.startswith("model name")), platform.processor())
    mem = next(int(ligne_.split()[1]) * 1024 for ligne_ in Path("/proc/meminfo").read_text().splitlines()
               if ligne_.startswith("MemTotal"))
    charge = Path("/proc/loadavg").read_text().split()[:3]
    versions = {}
    for paquet in ["dagster", "dagster-duckdb", "great_expectations", "pandas", "duckdb", "pandera", "altair",
                   "playwright", "weasyprint", "vl-convert-python", "openpyxl", "numpy"]:
        try:
            versions[paquet] = metadata.version(paquet)
        except metadata.PackageNotFoundError:
            versions[paquet] = "absent"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    return {"nproc": os.cpu_count(), "memoire": mem, "cpu": cpu, "python": platform.python_version(),
            "noyau": platform.release(), "charge": " ".join(charge), "versions": versions, "commit": commit.strip(),
            "date": dt.datetime.now().isoformat(timespec="seconds")}


# --- the benchmark ---------------------------------------------------------------------------------


def changer_un_fichier(donnees: Path) -> str:
    """One territory's partner corrects one figure in its 2025 commitments file (UTF-8 CSV)."""
    fichier = sorted(donnees.glob("inbox/*/2025/engagements_2025_*.csv"))[0]
    texte = fichier.read_bytes()
    codage = "utf-8" if b";" not in texte.splitlines()[0] else "cp1252"
    lignes = list(csv.reader(texte.decode(codage).splitlines(), delimiter=";" if codage == "cp1252" else ","))
    entete = [h.lower() for h in lignes[0]]
    j = next(i for i, h in enumerate(entete) if "cible" in h)
    lignes[1][j] = str(lignes[1][j]).replace("1", "2", 1) if "1" in lignes[1][j] else lignes[1][j] + "1"
    with open(fichier, "w", encoding=codage, newline="") as f:
        csv.writer(f, delimiter=";" if codage == "cp1252" else ",",
                   lineterminator="\r\n" if codage == "cp1252" else "\n").writerows(lignes)
    return str(fichier.relative_to(donnees))


# marts whose SQL reads a table their Python step prepares first (assets/marts/rejets.py): no bare-SQL twin, left
# out of the comparison with their tables
PREPARES_EN_PYTHON = {"mesures_rejets": {"mesures_rejets", "lignes_mesures"}}


def vider_marts(entrepot: Path, annee: int) -> None:
    """The year's rows of every mart taken out of the copy: equal tables afterwards mean both sides computed them."""
    import duckdb

    with duckdb.connect(str(entrepot)) as con:
        for (table,) in con.execute("SELECT table_name FROM information_schema.columns WHERE table_schema = 'marts' "
                                    "AND column_name = 'annee'").fetchall():
            con.execute(f"DELETE FROM marts.{table} WHERE annee = ?", [annee])


def comptes_marts(entrepot: Path, annee: int = 2025) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(entrepot), read_only=True) as con:
        hors = set().union(*PREPARES_EN_PYTHON.values())
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'marts' ORDER BY 1").fetchall() if r[0] not in hors]
        return {t: con.execute(f"SELECT count(*) FROM marts.{t} WHERE annee = ?", [annee]).fetchone()[0]
                for t in tables}


def etapes_annee(m: dict, annee: int = 2025) -> dict[str, float]:
    return next((r["etapes"] for r in m["rapport"]["runs"] if r["annee"] == annee), {})


def etapes_groupees(etapes: dict[str, float]) -> dict[str, tuple[float, int]]:
    """The steps of a run, a mapped step's copies (`bilan__bilan.render_batch[batch_003]`) together: (total, count)."""
    out: dict[str, tuple[float, int]] = {}
    for k, v in etapes.items():
        nom = k.split("[", 1)[0]
        total, n = out.get(nom, (0.0, 0))
        out[nom] = (total + v, n + 1)
    return out


def annee_du_run(m: dict, annee: int = 2025) -> dict:
    return next((r for r in m["rapport"]["runs"] if r["annee"] == annee), {"secondes": 0.0})


def executer(echelles: list[int], sans_bilan: bool, travail: Path, demo: bool = True, relances: bool = True,
             processus: int = 1) -> dict:
    if travail.exists():
        shutil.rmtree(travail)
    travail.mkdir(parents=True)
    res: dict = {"machine": machine(), "echelles": echelles, "sans_bilan": sans_bilan, "processus": processus}
    print("Plancher d'import de la pile…", flush=True)
    res["import"] = [mesurer([PYTHON, "-c", "import " + ", ".join(STACK)]) for _ in range(2)]
    if demo:
        print("Démo (CC Cœur d'Ostrevent) de bout en bout…", flush=True)
        # best of 2, as the floor: the first run on a machine also fills what a user's machine keeps between years
        # (the commune contours' cache, compiled bytecode, Chromium's first start)
        essais = [pipeline(ROOT / "data" / "demo", travail / nom / "sortie", ROOT / "config", travail / nom / "home",
                           sans_bilan, nom) for nom in ("demo", "demo_bis")]
        res["demo"] = min(essais, key=lambda m: m["secondes"])
        res["demo_essais"] = [m["secondes"] for m in essais]
        html = travail / "demo" / "sortie" / "2025" / "ccco" / "bilan_ccco_2025.html"
        if html.is_file():
            print("Moteurs PDF côte à côte sur le bilan de démo…", flush=True)
            res["moteurs_pdf"] = [json.loads(subprocess.run(
                [PYTHON, str(ROOT / "bench" / "moteurs_pdf.py"), str(html), "--moteur", moteur], cwd=ROOT,
                capture_output=True, text=True, check=True).stdout.splitlines()[-1])
                for moteur in ("chromium", "plancher", "weasyprint")]
    res["echelles_mesures"] = {}
    for n in echelles:
        print(f"Échelle {n} territoire(s)…", flush=True)
        dossier = travail / f"n{n}"
        gen = mesurer([PYTHON, str(ROOT / "tools" / "generate_national.py"), "--racine", str(dossier / "donnees"),
                       "--echelle", str(n)], journal=travail / f"generation_{n}.log")
        comptes = json.loads((dossier / "donnees" / "comptes.json").read_text())
        run = pipeline(dossier / "donnees", dossier / "sortie", dossier / "donnees" / "config", dossier / "home",
                       sans_bilan, "run", processus=processus)
        res["echelles_mesures"][n] = {"generation": gen, "comptes": comptes, "run": run}
        if n != max(echelles):
            shutil.rmtree(dossier / "sortie", ignore_errors=True)
    n = max(echelles)
    dossier = travail / f"n{n}"
    donnees, config, home = dossier / "donnees", dossier / "donnees" / "config", dossier / "home"
    marts = [k.split("__", 1)[1] for k in etapes_annee(res["echelles_mesures"][n]["run"])
             if k.startswith("marts__") and k.split("__", 1)[1] not in PREPARES_EN_PYTHON]
    if marts and relances:
        print(f"Marts à l'échelle {n} : Dagster et SQL nu, même entrepôt…", flush=True)
        for variante in ("dagster", "sql"):
            (dossier / variante).mkdir()
            shutil.copy(dossier / "sortie" / "entrepot.duckdb", dossier / variante / "entrepot.duckdb")
            vider_marts(dossier / variante / "entrepot.duckdb", 2025)
        dag = pipeline(donnees, dossier / "dagster", config, home, sans_bilan, "marts_dagster", seulement="marts")
        rapport = dossier / "marts_sql.json"
        nu = mesurer([PYTHON, str(ROOT / "bench" / "marts_sql.py"), str(dossier / "sql" / "entrepot.duckdb"),
                      "--annee", "2025", "--rapport", str(rapport), "--marts", *marts],
                     journal=dossier / "marts_sql.log")
        nu["rapport"] = json.loads(rapport.read_text()) if rapport.is_file() else {}
        res["marts"] = {"dagster": dag, "sql": nu, "noms": marts,
                        "comptes_dagster": comptes_marts(dossier / "dagster" / "entrepot.duckdb"),
                        "comptes_sql": comptes_marts(dossier / "sql" / "entrepot.duckdb")}
    if not relances:
        return res
    print(f"Relance à l'échelle {n} sans aucun changement…", flush=True)
    res["relance"] = pipeline(donnees, dossier / "sortie", config, home, sans_bilan, "relance", processus=processus)
    res["fichier_change"] = changer_un_fichier(donnees)
    print(f"Relance après changement de {res['fichier_change']}…", flush=True)
    res["apres_changement"] = pipeline(donnees, dossier / "sortie", config, home, sans_bilan, "apres_changement",
                                       processus=processus)
    # the steward's case: one corrected file, the run of its territory alone (bilan/territoires)
    res["fichier_change_territoire"] = changer_un_fichier(donnees)
    territoire = Path(res["fichier_change_territoire"]).parts[1]
    print(f"Run limité à {territoire} après changement de {res['fichier_change_territoire']}…", flush=True)
    res["territoire_seul"] = pipeline(donnees, dossier / "sortie", config, home, sans_bilan, "territoire_seul",
                                      territoire=territoire)
    return res


# --- a valid file at the row limit (issue 28) ------------------------------------------------------


def limites() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))["limites"]


def _lignes_feuilles(xlsx: Path, feuille: str) -> int:
    """Data rows of a workbook's sheet and of its continuations (« Engagements (2) »…), from each sheet's declared
    dimension: a sheet of half a million rows is not read row by row."""
    from openpyxl import load_workbook

    book = load_workbook(xlsx, read_only=True)
    try:
        return sum((ws.max_row or 1) - 1 for ws in book.worksheets
                   if ws.title == feuille or ws.title.startswith(f"{feuille} ("))
    finally:
        book.close()


def fichier_limite(travail: Path, lignes: int | None = None) -> dict:
    """bench/fichier_limite.py's inbox, then `bilan run --annee 2025` on it: the command a user types, from a cold
    start (new warehouse and Dagster instance), in one process as `bilan run` does by default."""
    import duckdb
    from fichier_limite import ANNEE, NOM, TERRITOIRE

    dossier = travail / "fichier_limite"
    shutil.rmtree(dossier, ignore_errors=True)
    dossier.mkdir(parents=True)
    donnees, sortie, home = dossier / "donnees", dossier / "sortie", dossier / "home"
    lim = limites()
    n = lignes or lim["lignes"]
    print(f"Fichier valide à la limite de lignes ({n} lignes)…", flush=True)
    gen = mesurer([PYTHON, str(ROOT / "bench" / "fichier_limite.py"), "--donnees", str(donnees), "--lignes", str(n)],
                  journal=dossier / "generation.log")
    fichier = donnees / "inbox" / TERRITOIRE / str(ANNEE) / NOM
    m: dict = {"machine": machine(), "lignes": n, "limites": lim, "generation": gen, "territoire": TERRITOIRE,
               "annee": ANNEE, "taille": fichier.stat().st_size if fichier.is_file() else 0, "run": None,
               "qualite": None, "bilan": {}, "lignes_annexe": None, "succes": False}
    if gen["code"] != 0:
        print(f"    génération en ÉCHEC : voir {dossier / 'generation.log'}", flush=True)
        return m
    home.mkdir()
    shutil.copy(ROOT / "deploiement" / "dagster.sqlite.yaml", home / "dagster.yaml")
    # the entry point installed beside the interpreter running the benchmark, not whichever `bilan` is on PATH
    cmd = [str(Path(PYTHON).parent / "bilan"), "run", "--annee", str(ANNEE), "--donnees", str(donnees),
           "--sortie", str(sortie)]
    m["run"] = mesurer(cmd, {"DAGSTER_HOME": str(home)}, dossier / "run.log")
    bilans = sortie / str(ANNEE) / TERRITOIRE
    m["bilan"] = {nom: (bilans / f"bilan_{TERRITOIRE}_{ANNEE}{suffixe}").stat().st_size
                  if (bilans / f"bilan_{TERRITOIRE}_{ANNEE}{suffixe}").is_file() else 0
                  for nom, suffixe in (("HTML", ".html"), ("PDF", ".pdf"), ("annexe XLSX", "_annexe.xlsx"))}
    if m["bilan"]["annexe XLSX"]:
        m["lignes_annexe"] = _lignes_feuilles(bilans / f"bilan_{TERRITOIRE}_{ANNEE}_annexe.xlsx", "Engagements")
    try:
        with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
            ligne = con.execute(
                "SELECT statut, lignes_lues, lignes_retenues, lignes_quarantaine, message "
                "FROM staging.qualite_fichiers WHERE famille = 'engagements' AND territoire = ? AND annee_boite = ? "
                "AND (fichier = ? OR ends_with(fichier, '/' || ?)) ORDER BY version DESC LIMIT 1",
                [TERRITOIRE, ANNEE, NOM, NOM]).fetchone()
    except duckdb.Error as e:  # a run that failed before staging leaves no such table, or no warehouse
        ligne = None
        m["erreur_entrepot"] = str(e)
    if ligne:
        m["qualite"] = dict(zip(("statut", "lues", "retenues", "quarantaine", "message"), ligne, strict=True))
    q = m["qualite"] or {}
    m["succes"] = (m["run"]["code"] == 0 and q.get("statut") == "accepte" and q.get("lues") == n
                   and q.get("retenues") == n and q.get("quarantaine") == 0 and all(m["bilan"].values()))
    print(f"    {m['run']['secondes']:.1f} s, pic {m['run']['pic_rss'] / 2**20:.0f} Mo, "
          f"{q.get('retenues', 0)} lignes retenues sur {n}, bilan : "
          + ", ".join(f"{k} {'oui' if v else 'ABSENT'}" for k, v in m["bilan"].items())
          + ("" if m["succes"] else f" — ÉCHEC (voir {dossier / 'run.log'})"), flush=True)
    return m


# --- RESULTS.md ------------------------------------------------------------------------------------


def _mo(octets: float) -> str:
    return f"{octets / 2**20:,.0f} Mo".replace(",", " ")


def _s(secondes: float) -> str:
    return f"{secondes:,.1f} s".replace(",", " ")


def _run(m: dict) -> str:
    return _s(m["secondes"]) + ("" if m["succes"] else " (ÉCHEC : " + ", ".join(
        e for r in m["rapport"]["runs"] for e in r["echecs"]) + ")")


def _cible(ok: bool | None) -> str:
    return "—" if ok is None else ("**atteint**" if ok else "**non atteint**")


def objectifs(res: dict, plancher: float) -> list[str]:
    """The issue's targets, each with its figure measured in this pass."""
    rows = []
    if "demo" in res:
        r = res["demo"]["secondes"] / plancher
        rows.append(("démo de bout en bout ≤ 3 × le plancher d'import", f"{r:.1f} ×", r <= 3))
    if res.get("moteurs_pdf"):
        chromium, floor = res["moteurs_pdf"][0], res["moteurs_pdf"][1]
        r = chromium["cpu"] / max(floor["cpu"], 0.01)
        rows.append(("impression du bilan de démo ≤ 1,5 × une impression des mêmes pages (CPU)", f"{r:.2f} ×",
                     r <= 1.5))
    if "marts" in res:
        m = res["marts"]
        dag = sum(v for k, v in etapes_annee(m["dagster"]).items() if k.startswith("marts__"))
        sql = sum(m["sql"]["rapport"].get("etapes", {}).values())
        if sql:
            rows.append((f"marts ≤ 1,5 × le SQL nu ({max(res['echelles'])} territoires)", f"{dag / sql:.1f} ×",
                         dag / sql <= 1.5))
    n_max = max(res["echelles"])
    run = res["echelles_mesures"][n_max]["run"]
    annee = annee_du_run(run)
    rows.append((f"année nationale ({n_max} territoires, 2025{'' if res['sans_bilan'] else ', bilans compris'}) "
                 "≤ 10 min", f"{_s(annee['secondes'])} (2024 puis 2025 : {_s(run['secondes'])})",
                 annee["secondes"] <= 600 if run["succes"] else False))
    rows.append(("pic de mémoire ≤ 6 Go", _mo(run["pic_rss"]), run["pic_rss"] <= 6 * 2**30))
    if "relance" in res:
        rel = annee_du_run(res["relance"])
        rows.append(("relance nationale sans changement ≤ 1 min", f"{_s(rel['secondes'])} (2025 ; "
                     f"2024 puis 2025 : {_s(res['relance']['secondes'])})", rel["secondes"] <= 60))
        rendus = res["apres_changement"]["rapport"].get("bilans_rendus", [])
        rows.append(("après un fichier changé, seul son territoire est rendu à nouveau",
                     f"{len(rendus)} bilan(s) rendu(s) : {', '.join(rendus[:5]) or 'aucun'}",
                     None if res["sans_bilan"] else len(rendus) == 1))
    if "territoire_seul" in res:
        seul = res["territoire_seul"]
        rows.append((f"un fichier changé → le run limité à son territoire ({n_max} territoires) ≤ 15 s",
                     f"{_s(seul['secondes'])} (2024 puis 2025, import compris ; "
                     f"{_s(annee_du_run(seul)['secondes'])} pour 2025)", seul["secondes"] <= 15 and seul["succes"]))
    couts = {int(n): e["run"]["secondes"] / int(n) for n, e in res["echelles_mesures"].items() if int(n) >= 10}
    if len(couts) > 1:
        ecart = max(couts.values()) / min(couts.values()) - 1
        rows.append(("coût par territoire constant (à 20 % près) de 10 à 435 territoires",
                     ", ".join(f"{n} : {_s(c)}" for n, c in sorted(couts.items())) + f" (écart {100 * ecart:.0f} %)",
                     ecart <= 0.2))
    return ["## Les objectifs", "", "| objectif | mesuré | |", "|---|---|---|",
            *(f"| {a} | {b} | {_cible(c)} |" for a, b, c in rows), ""]


def rediger(res: dict) -> str:
    ma = res["machine"]
    plancher = min(m["secondes"] for m in res["import"])
    n_max = max(res["echelles"])
    etape_bilan = "**sans** l'étape bilan (HTML + PDF)" if res["sans_bilan"] else "**avec** l'étape bilan (HTML + PDF)"
    L = ["# Banc d'essai (`make bench`)", "",
         f"Mesuré le {ma['date']} (commit `{ma['commit']}`), échelles : **{', '.join(map(str, res['echelles']))}** "
         f"territoire(s), {etape_bilan}. "
         "Un banc d'essai, pas un test : les chiffres dépendent de la machine et de sa charge (machine partagée : "
         "les rapports sont mesurés côte à côte, dans le même passage).", "",
         "## Machine", "",
         f"- {ma['nproc']} cœurs, {_mo(ma['memoire'])} de mémoire, {ma['cpu']}",
         f"- Linux {ma['noyau']}, Python {ma['python']} ; charge au départ (1, 5, 15 min) : {ma['charge']}",
         "- " + ", ".join(f"{k} {v}" for k, v in ma["versions"].items()), "",
         ]
    L += objectifs(res, plancher)
    if "demo" in res:
        L += ["## La démo de bout en bout face au plancher d'import", "",
         "| mesure | durée | pic mémoire (arbre de processus) |", "|---|---|---|",
         f"| plancher : un processus qui n'importe que {', '.join(STACK)} (meilleur de 2) | {_s(plancher)} | "
         f"{_mo(max(m['pic_rss'] for m in res['import']))} |",
         f"| démo CCCO, `2024` puis `2025` de bout en bout (meilleur de 2 : "
         f"{' et '.join(_s(x) for x in res.get('demo_essais', [res['demo']['secondes']]))}) | {_run(res['demo'])} | "
         f"{_mo(res['demo']['pic_rss'])} |",
         f"| **rapport démo / plancher** | **{res['demo']['secondes'] / plancher:.1f} ×** | |", ""]
    else:
        L += [f"Plancher d'import de la pile (meilleur de 2) : {_s(plancher)} ; démo non mesurée dans ce passage.", ""]
    if res.get("moteurs_pdf"):
        chromium, plancher_pdf, weasy = res["moteurs_pdf"]
        L += ["## Le moteur PDF : Chromium face à WeasyPrint", "",
              "Le même HTML (le bilan de démo 2025), chaque moteur dans son propre processus, après une première "
              "impression d'échauffement (`bench/moteurs_pdf.py`). Temps CPU = le processus et ceux qu'il lance "
              "(Chromium). Chromium imprime le bilan une fois, puis ses pages de tête de nouveau (numéros de page du "
              "sommaire et des renvois).", "",
              "| moteur | durée | temps CPU | pages |", "|---|---|---|---|",
              *(f"| {m['moteur']} | {_s(m['secondes'])} | {_s(m['cpu'])} | {m['pages']} |"
                for m in (chromium, plancher_pdf, weasy)),
              f"| **rapport Chromium du pipeline / plancher (une impression des mêmes pages)** | "
              f"**{chromium['secondes'] / max(plancher_pdf['secondes'], 0.01):.2f} ×** | "
              f"**{chromium['cpu'] / max(plancher_pdf['cpu'], 0.01):.2f} ×** | |",
              f"| **rapport WeasyPrint / Chromium (CPU)** | | "
              f"**{weasy['cpu'] / max(chromium['cpu'], 0.01):.1f} ×** | |",
              ""]
    L += ["## Le jeu national synthétique : coût par territoire", "",
          "Généré par `tools/generate_national.py` (QPV réels de la couche ANCT 2024, volumes au prorata de la "
          "population). Un run = l'année 2024 (sans bilan) puis 2025, à froid (entrepôt, cache et instance neufs).", "",
          "| territoires | QPV | lignes reçues 2025 | génération | run de bout en bout | par territoire | "
          "pic mémoire |", "|---|---|---|---|---|---|---|"]
    for n, e in sorted(res["echelles_mesures"].items(), key=lambda kv: int(kv[0])):
        c = e["comptes"]
        L.append(f"| {n} | {c['qpv']} | {c.get('lignes_2025', 0):,} | {_s(e['generation']['secondes'])} | "
                 f"{_run(e['run'])} | {_s(e['run']['secondes'] / int(n))} | {_mo(e['run']['pic_rss'])} |"
                 .replace(",", " "))
    c = res["echelles_mesures"][n_max]["comptes"]
    L += ["", f"Volumes à {n_max} territoire(s) (`comptes.json`) : " + ", ".join(f"{k} {v:,}".replace(",", " ")
                                                                             for k, v in c.items()
                                                                             if isinstance(v, int)), ""]
    e = res["echelles_mesures"][n_max]["run"]
    L += [f"## Où va le temps à {n_max} territoire(s)", "",
          "Durée de chaque étape Dagster (de STEP_START à STEP_SUCCESS), année 2025 puis total 2024. Une étape "
          "copiée par lot (`render_batch`, sur l'exécuteur multiprocessus) : la somme de ses copies, qui tournent "
          "côte à côte (elle dépasse donc la durée du run quand plusieurs processus travaillent).", "",
          "| étape | 2025 | part des étapes 2025 | 2024 |", "|---|---|---|---|"]
    e25, e24 = etapes_groupees(etapes_annee(e, 2025)), etapes_groupees(etapes_annee(e, 2024))
    tot = sum(v for v, _ in e25.values()) or 1
    for k, (v, nb) in sorted(e25.items(), key=lambda kv: -kv[1][0]):
        nom = f"`{k}`" + (f" ({nb} lots)" if nb > 1 else "")
        L.append(f"| {nom} | {_s(v)} | {100 * v / tot:.0f} % | {_s(e24[k][0]) if k in e24 else '—'} |")
    runs = e["rapport"]["runs"]
    L += ["", f"Import de Dagster et des définitions : {_s(e['rapport'].get('import_s', 0))} ; runs : "
          + ", ".join(f"{r['annee']} {_s(r['secondes'])}" for r in runs) + ".", ""]
    if "marts" in res:
        m = res["marts"]
        dag = sum(v for k, v in etapes_annee(m["dagster"]).items() if k.startswith("marts__"))
        dag_checks = sum(etapes_annee(m["dagster"]).values())
        sql = sum(m["sql"]["rapport"].get("etapes", {}).values())
        egaux = m["comptes_dagster"] == m["comptes_sql"]
        L += [f"## Les marts : le pipeline face au SQL nu ({n_max} territoire(s), 2025)", "",
              "Même entrepôt copié après le run (staging fait) : d'un côté les actifs `marts/*` matérialisés par "
              "Dagster (avec leurs contrôles), de l'autre `bench/marts_sql.py` qui exécute les mêmes fichiers "
              "`assets/marts/*.sql` avec DuckDB seul ; l'année est d'abord retirée des marts des deux copies. Sans "
              "jumeau en SQL nu (le SQL lit une table que l'étape Python prépare) : "
              + ", ".join(f"`{k}`" for k in PREPARES_EN_PYTHON) + ".", "",
              "| | durée |", "|---|---|",
              f"| Dagster : étapes `marts__*` (SQL + contrôles intégrés + métadonnées) | {_s(dag)} |",
              f"| Dagster : toutes les étapes du run marts (avec les suites Great Expectations) | {_s(dag_checks)} |",
              f"| Dagster : processus entier (import compris) | {_run(m['dagster'])} |",
              f"| SQL nu : les mêmes fichiers SQL | {_s(sql)} |",
              f"| SQL nu : processus entier | {_s(m['sql']['secondes'])}"
              + ("" if m["sql"]["code"] == 0 else f" (ÉCHEC, code {m['sql']['code']} : voir marts_sql.log)") + " |",
              f"| **rapport étapes marts / SQL nu** | **{dag / sql:.1f} ×** |" if sql else "| rapport | — |",
              f"| **rapport processus / processus** | **{m['dagster']['secondes'] / m['sql']['secondes']:.1f} ×** |",
              "", "Détail SQL nu : "
              + ", ".join(f"{k} {_s(v)}" for k, v in m["sql"]["rapport"].get("etapes", {}).items())
              + f". Mêmes tables des deux côtés (lignes 2025 par table) : **{'oui' if egaux else 'NON'}** "
              f"({', '.join(f'{k} {v}' for k, v in m['comptes_sql'].items())}).", ""]
    if "relance" not in res:
        return "\n".join(L + ["Relances non mesurées dans ce passage (`--sans-relances`).", ""])
    premier = res["echelles_mesures"][n_max]["run"]
    L += [f"## Relances à {n_max} territoire(s)", "", "| run | durée | pic mémoire |", "|---|---|---|",
          f"| premier run, à froid | {_run(premier)} | {_mo(premier['pic_rss'])} |",
          f"| relance, rien de changé | {_run(res['relance'])} | {_mo(res['relance']['pic_rss'])} |",
          f"| relance après changement d'un fichier (`{res['fichier_change']}`) | {_run(res['apres_changement'])} | "
          f"{_mo(res['apres_changement']['pic_rss'])} |", "",
          "Bilans rendus à nouveau (le registre `publication.bilans_publies` inscrit un bilan quand il est rendu) : "
          f"relance sans changement {len(res['relance']['rapport'].get('bilans_rendus', []))}, après le changement "
          f"{len(res['apres_changement']['rapport'].get('bilans_rendus', []))} ("
          + (", ".join(res['apres_changement']['rapport'].get('bilans_rendus', [])[:10]) or "aucun") + ").", "",
          "Étapes les plus longues de la relance sans changement (2025) : " + ", ".join(
              f"`{k}` {_s(v)}" for k, v in sorted(etapes_annee(res["relance"]).items(), key=lambda kv: -kv[1])[:6])
          + ".", ""]
    return "\n".join(L)


# how a passage of this case alone finds its own lines again in a RESULTS.md written by another passage
OBJECTIF_LIMITE = "| fichier valide "
DEBUT_LIMITE, FIN_LIMITE = "<!-- fichier-limite : écrit par bench/run_bench.py -->", "<!-- /fichier-limite -->"


def _nb(x: int) -> str:
    return f"{x:,}".replace(",", " ")


def objectif_fichier_limite(m: dict, separe: bool) -> str:
    n, limite, run = m["lignes"], m["limites"]["lignes"], m["run"]
    quoi = (f"fichier valide à la limite de lignes ({_nb(n)})" if n == limite
            else f"fichier valide de {_nb(n)} lignes (essai réduit, la limite est de {_nb(limite)})")
    objectif = (f"{quoi} → bilan, pic mémoire ≤ 6 Go (la cible « pic de mémoire ≤ 6 Go » du banc, arbre de "
                "processus, ici pour le run d'un seul territoire)")
    if run is None:
        mesure = "génération des données en échec"
    else:
        absents = [k for k, v in m["bilan"].items() if not v]
        mesure = (f"pic {_mo(run['pic_rss'])}, {_s(run['secondes'])} ; "
                  f"{_nb((m['qualite'] or {}).get('retenues') or 0)} lignes retenues sur {_nb(n)} ; "
                  + (f"bilan incomplet ({', '.join(absents)} absent)" if absents
                     else "bilan HTML, PDF et annexe écrits")
                  + ("" if run["code"] == 0 else f" ; `bilan run` sorti avec le code {run['code']}"))
    if separe:
        mesure += f" (passage séparé du {m['machine']['date']}, commit `{m['machine']['commit']}`)"
    # a smaller file says nothing about the limit: measured, not judged
    ok = None if n != limite else m["succes"] and run["pic_rss"] <= 6 * 2**30
    return f"| {objectif} | {mesure} | {_cible(ok)} |"


def section_fichier_limite(m: dict, separe: bool) -> list[str]:
    ma, lim, run, q = m["machine"], m["limites"], m["run"], m["qualite"]
    L = [DEBUT_LIMITE, "## Un fichier valide à la limite de lignes", "",
         f"Mesuré le {ma['date']} (commit `{ma['commit']}`"
         + (", seul, `--seulement-fichier-limite` : les autres sections viennent d'un autre passage" if separe else "")
         + f") ; {ma['nproc']} cœurs, {_mo(ma['memoire'])} de mémoire ; charge au départ (1, 5, 15 min) : "
         f"{ma['charge']}. `bench/fichier_limite.py` écrit la boîte de dépôt de la démo (CCCO) et un fichier "
         f"d'engagements valide de **{_nb(m['lignes'])} lignes** (`limites.lignes` de `config/settings.yaml` : "
         f"{_nb(lim['lignes'])}), {m['taille'] / 2**20:.1f} Mo (`limites.taille_fichier_mo` : "
         f"{lim['taille_fichier_mo']} Mo). Puis `bilan run --annee {m['annee']}` tel qu'un utilisateur le lance : "
         "les années antérieures de la boîte de dépôt puis la sienne, dans un seul processus (sans `--processus`), à "
         "froid (entrepôt et instance Dagster neufs).", "",
         "| mesure | valeur |", "|---|---|",
         f"| génération des données | {_s(m['generation']['secondes'])}"
         + ("" if m["generation"]["code"] == 0 else f" (ÉCHEC, code {m['generation']['code']})") + " |"]
    if run is not None:
        L += [f"| `bilan run --annee {m['annee']}`, de bout en bout | {_s(run['secondes'])} "
              f"(code de sortie {run['code']}) |",
              f"| pic de mémoire de l'arbre de processus (RSS relevé toutes les 0,2 s) | {_mo(run['pic_rss'])} |",
              "| le fichier dans `staging.qualite_fichiers` | "
              + (f"{q['statut']} : {_nb(q['lues'])} lignes lues, {_nb(q['retenues'])} retenues, "
                 f"{_nb(q['quarantaine'])} en quarantaine" + (f" ({q['message']})" if q["message"] else "")
                 if q else "absent de l'entrepôt") + " |",
              f"| bilan `{m['annee']}/{m['territoire']}/` : {', '.join(m['bilan'])} | "
              + ", ".join(f"{v / 2**20:.1f} Mo" if v else "ABSENT" for v in m["bilan"].values()) + " |"]
        if m["lignes_annexe"] is not None:
            L.append("| lignes de la feuille « Engagements » de l'annexe (tout le territoire : tous ses fichiers, "
                     f"chaque périmètre) | {_nb(m['lignes_annexe'])} |")
    return [*L, "", FIN_LIMITE]


def inscrire_fichier_limite(texte: str, m: dict, separe: bool) -> str:
    """RESULTS.md with this case's targets row and section put in, in place of an earlier passage's if there is one;
    nothing else touched."""
    lignes = texte.rstrip("\n").split("\n")
    ligne = objectif_fichier_limite(m, separe)
    ancienne = next((i for i, x in enumerate(lignes) if x.startswith(OBJECTIF_LIMITE)), None)
    if ancienne is not None:
        lignes[ancienne] = ligne
    elif "## Les objectifs" in lignes:
        i = lignes.index("## Les objectifs") + 1
        while i < len(lignes) and not lignes[i].startswith("|"):
            i += 1
        while i < len(lignes) and lignes[i].startswith("|"):
            i += 1
        lignes.insert(i, ligne)
    section = section_fichier_limite(m, separe)
    if DEBUT_LIMITE in lignes and FIN_LIMITE in lignes:
        lignes[lignes.index(DEBUT_LIMITE):lignes.index(FIN_LIMITE) + 1] = section
    else:
        # after the script's sections, before a hand-written part that may follow them (« # Mesures antérieures »)
        fin = next((i for i, x in enumerate(lignes) if i > 0 and x.startswith("# ")), len(lignes))
        while fin > 0 and not lignes[fin - 1].strip():
            fin -= 1
        lignes[fin:fin] = ["", *section]
    return "\n".join(lignes) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--echelles", default=os.environ.get("ECHELLES", " ".join(map(str, ECHELLES))))
    parser.add_argument("--sans-bilan", action="store_true",
                        default=os.environ.get("BENCH_SANS_BILAN", "") not in ("", "0", "non"))
    parser.add_argument("--travail", default=os.environ.get("BENCH_TRAVAIL", "/tmp/bilan-bench"))
    parser.add_argument("--resultats", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--sans-demo", action="store_true", help="ne pas mesurer la démo")
    parser.add_argument("--processus", type=int, default=int(os.environ.get("PROCESSUS", os.cpu_count() or 1)),
                        help="bilans des jeux nationaux rendus par N processus (exécuteur multiprocessus) ; "
                             "par défaut le nombre de cœurs")
    parser.add_argument("--sans-relances", action="store_true",
                        help="un seul run à la plus grande échelle (ni relance, ni comparaison des marts)")
    parser.add_argument("--sans-fichier-limite", action="store_true",
                        default=os.environ.get("BENCH_SANS_FICHIER_LIMITE", "") not in ("", "0", "non"),
                        help="ne pas mesurer le fichier valide à la limite de lignes (≈ 11 min)")
    parser.add_argument("--seulement-fichier-limite", action="store_true",
                        help="ne mesurer que le fichier valide à la limite de lignes ; dans --resultats, ne réécrire "
                             "que sa section et sa ligne des objectifs")
    parser.add_argument("--lignes-fichier-limite", type=int,
                        help="un fichier plus petit, pour un essai rapide (mesuré, non jugé) ; par défaut "
                             "limites.lignes de config/settings.yaml")
    args = parser.parse_args()
    echelles = sorted({int(x) for x in args.echelles.replace(",", " ").split()})
    travail = Path(args.travail).resolve()
    if ROOT in (travail, *travail.parents):
        parser.error("--travail doit être hors du dépôt")
    resultats = Path(args.resultats)
    if args.seulement_fichier_limite:
        travail.mkdir(parents=True, exist_ok=True)
        m = fichier_limite(travail, args.lignes_fichier_limite)
        (travail / "fichier_limite.json").write_text(json.dumps(m, indent=1, default=str), encoding="utf-8")
        avant = resultats.read_text(encoding="utf-8") if resultats.is_file() else "# Banc d'essai (`make bench`)\n"
        resultats.write_text(inscrire_fichier_limite(avant, m, separe=True), encoding="utf-8")
        print(f"Résultats : {resultats}, section « Un fichier valide à la limite de lignes » et sa ligne des "
              f"objectifs (mesures brutes : {travail / 'fichier_limite.json'})")
        return 0
    res = executer(echelles, args.sans_bilan, travail, demo=not args.sans_demo, relances=not args.sans_relances,
                   processus=args.processus)
    if not args.sans_fichier_limite:
        res["fichier_limite"] = fichier_limite(travail, args.lignes_fichier_limite)
    (travail / "resultats.json").write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    texte = rediger(res) + "\n"
    if "fichier_limite" in res:
        texte = inscrire_fichier_limite(texte, res["fichier_limite"], separe=False)
    resultats.write_text(texte, encoding="utf-8")
    print(f"Résultats : {resultats} (mesures brutes : {travail / 'resultats.json'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
