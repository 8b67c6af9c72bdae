"""`make bench`: a benchmark, not a test. Measures in one go, on this machine, and writes bench/RESULTS.md.

By default, the national pass, sized to fit in half an hour (issue 32, item 6), each run the command a user types:
- the import floor of the stack (a process that only imports it), the demo year end to end beside it (a ratio), the
  demo bilan's print beside one Chromium print of the same pages and beside WeasyPrint;
- the synthetic national dataset at scale 435 (tools/generate_national.py: every EPCI with a QPV), then
  `bilan run --annee 2025 --sans-bilan` from cold (the data of every territory, 2024 then 2025: wall, peak memory
  of the process tree, each step's time from the Dagster instance), and the same command again, nothing changed;
- the marts as the pipeline materialises them beside the same SQL run bare in DuckDB, each on a copy of that
  warehouse, as a ratio;
- one territory's file corrected, then `bilan run --territoire CODE` (its data and its bilans republished; every
  other territory's published files compared byte for byte);
- the bilans of the territory with the most QPV and of the one with the fewest; the rendering of every territory's
  bilans extrapolated from them (said so in RESULTS.md).

    python bench/run_bench.py [--echelle-nationale 435] [--travail /tmp/bilan-bench] [--sans-demo]

The file at the row limit (bench/fichier_limite.py, ≈ 11 min) has its own passage, `--seulement-fichier-limite`,
which rewrites only its section and targets row; a national passage keeps them, and the hand-written parts at the
end of RESULTS.md. `--echelles "1 10 100"` runs instead the earlier sweep, scale after scale, bilans included
(`--sans-bilan` leaves them out; `--sans-relances`, `--processus N`, `--sans-fichier-limite`): hours at 100.
Ratios are measured side by side in the same passage: the machine may be shared and noisy.
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
ECHELLE_NATIONALE = 435


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


def a_corriger(donnees: Path) -> Path:
    return sorted(donnees.glob("inbox/*/2025/engagements_2025_*.csv"))[0].relative_to(donnees)


def changer_un_fichier(donnees: Path) -> str:
    """One territory's partner corrects one figure in its 2025 commitments file (UTF-8 CSV)."""
    fichier = donnees / a_corriger(donnees)
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
        _demo(res, travail, sans_bilan)
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
    if not relances:
        return res
    _marts(res, dossier, n)
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


# --- the national pass, sized to half an hour (issue 32, item 6) --------------------------------------


def _bilan() -> str:
    # the entry point installed beside the interpreter running the benchmark, not whichever `bilan` is on PATH
    return str(Path(PYTHON).parent / "bilan")


def runs_dagster(home: Path) -> dict:
    """The runs of the instance at `home`, with their steps' times (bench/etapes.py, in its own process)."""
    done = subprocess.run([PYTHON, str(ROOT / "bench" / "etapes.py"), str(home)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else {}


def bilan_run(dossier: Path, nom: str, options: list[str]) -> dict:
    """`bilan run --annee 2025 …` as a steward types it, measured from outside: wall time, peak memory of the
    process tree, what it printed; then the Dagster runs it launched, with their steps (read from the instance)."""
    home = dossier / "home"
    if not (home / "dagster.yaml").is_file():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "deploiement" / "dagster.sqlite.yaml", home / "dagster.yaml")
    avant = set(runs_dagster(home))
    donnees = dossier / "donnees"
    cmd = [_bilan(), "run", "--annee", "2025", "--donnees", str(donnees), "--sortie", str(dossier / "sortie"),
           "--config", str(donnees / "config"), *options]
    print(f"  … {nom} : bilan run {' '.join(options)}", flush=True)
    journal = dossier / f"{nom}.log"
    # the checkout being measured, whichever one the environment's editable install points to
    m = mesurer(cmd, {"DAGSTER_HOME": str(home), "PYTHONPATH": str(ROOT)}, journal)
    texte = journal.read_text(encoding="utf-8", errors="replace")
    m["succes"] = m["code"] == 0
    m["rien_relance"] = "rien n'est relancé" in texte
    m["runs"] = {k: v for k, v in runs_dagster(home).items() if k not in avant}
    print(f"    {m['secondes']:.1f} s, pic {m['pic_rss'] / 2**20:.0f} Mo, "
          f"{len(m['runs'])} run(s) Dagster, {'réussi' if m['succes'] else 'ÉCHEC (voir ' + str(journal) + ')'}",
          flush=True)
    return m


def qpv_par_territoire(config: Path) -> dict[str, int]:
    import yaml

    return {f.stem: len((yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("qpv") or [])
            for f in sorted((config / "territoires").glob("*.yaml"))}


def empreinte_autres(sortie: Path, annee: int, territoires: list[str], sauf: str) -> dict[str, str]:
    """Every file published for the other territories (their bilans behind their link, their partners' workbooks),
    by its bytes' hash. The year's files on every territory (Data Docs, missing files) are not a territory's."""
    import hashlib

    racine = sortie / str(annee)
    out = {}
    for code in territoires:
        if code == sauf:
            continue
        for dossier in (racine / code, racine / "retours" / code):
            if dossier.exists():
                for p in sorted(dossier.resolve().rglob("*")):
                    if p.is_file():
                        out[f"{code}/{p.relative_to(dossier.resolve())}"] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def documents(sortie: Path, annee: int, code: str) -> dict:
    """A territory's bilan set as published: its PDF's pages, its commune bilans and theirs."""
    import pikepdf

    dossier = sortie / str(annee) / code

    def pages(pdf: Path) -> int:
        with pikepdf.open(pdf) as doc:
            return len(doc.pages)

    pdf = dossier / f"bilan_{code}_{annee}.pdf"
    communes = sorted((dossier / "communes").glob("*.pdf"))
    return {"pages": pages(pdf) if pdf.is_file() else 0, "communes": len(communes),
            "pages_communes": sum(pages(p) for p in communes),
            "fichiers": sorted(p.name for p in dossier.glob("bilan_*"))}


def _etapes_des_runs(m: dict, annee: str = "2025") -> dict[str, float]:
    out: dict[str, float] = {}
    for run in m.get("runs", {}).values():
        if run["annee"] == annee:
            for k, v in run["etapes"].items():
                out[k] = out.get(k, 0.0) + v
    return out


def rendu_s(m: dict) -> float:
    """The bilan's steps of a run (HTML, charts, PDF, annex, commune bilans), the data steps left out."""
    return sum(v for k, v in _etapes_des_runs(m).items() if k.startswith("bilan__"))


def executer_national(echelle: int, travail: Path, demo: bool = True) -> dict:
    """`make bench`: what a national deployment does, in about half an hour on this machine. The data pass of every
    territory (without bilans), run again with nothing changed; the marts beside bare SQL on that warehouse; one
    territory's file corrected and its bilans republished; the bilans of the territory with the most QPV and of the
    one with the fewest, from which the rendering of every bilan is extrapolated (and said so)."""
    if travail.exists():
        shutil.rmtree(travail)
    travail.mkdir(parents=True)
    res: dict = {"machine": machine(), "mode": "national", "echelle": echelle}
    print("Plancher d'import de la pile…", flush=True)
    res["import"] = [mesurer([PYTHON, "-c", "import " + ", ".join(STACK)]) for _ in range(2)]
    if demo:
        _demo(res, travail, sans_bilan=False)
    dossier = travail / f"n{echelle}"
    print(f"Jeu national, échelle {echelle}…", flush=True)
    res["generation"] = mesurer([PYTHON, str(ROOT / "tools" / "generate_national.py"), "--racine",
                                 str(dossier / "donnees"), "--echelle", str(echelle)],
                                journal=travail / "generation.log")
    res["comptes"] = json.loads((dossier / "donnees" / "comptes.json").read_text())
    qpv = qpv_par_territoire(dossier / "donnees" / "config")
    res["qpv_par_territoire"] = qpv
    print("Passe nationale des données (2024 puis 2025, sans bilans)…", flush=True)
    res["national"] = bilan_run(dossier, "national", ["--sans-bilan"])
    if not res["national"]["succes"]:
        return res
    print("La même commande, rien de changé…", flush=True)
    res["relance"] = bilan_run(dossier, "relance", ["--sans-bilan"])
    _marts(res, dossier, echelle)
    # the sample first: the corrected territory's run must then leave their bilans as they were, byte for byte
    code = Path(a_corriger(dossier / "donnees")).parts[1]
    grand = max(qpv, key=lambda c: (qpv[c], c))
    petit = min((c for c in qpv if c != code), key=lambda c: (qpv[c], c))
    res["echantillon"] = {}
    for c in dict.fromkeys((petit, grand)):
        print(f"Bilans de {c} ({qpv[c]} QPV)…", flush=True)
        m = bilan_run(dossier, f"bilans_{c}", ["--territoire", c])
        res["echantillon"][c] = {"qpv": qpv[c], "run": m, "rendu_s": rendu_s(m),
                                 "documents": documents(dossier / "sortie", 2025, c)}
    fichier = changer_un_fichier(dossier / "donnees")
    res["depot"] = {"fichier": fichier, "territoire": code, "qpv": qpv.get(code, 0)}
    print(f"Un fichier corrigé ({fichier}) : le run de son territoire, bilans compris…", flush=True)
    avant = empreinte_autres(dossier / "sortie", 2025, list(qpv), code)
    res["depot"]["run"] = bilan_run(dossier, "depot", ["--territoire", code])
    apres = empreinte_autres(dossier / "sortie", 2025, list(qpv), code)
    res["depot"]["autres_fichiers"] = len(avant)
    res["depot"]["autres_changes"] = sorted(k for k in avant.keys() | apres.keys() if avant.get(k) != apres.get(k))
    res["depot"]["documents"] = documents(dossier / "sortie", 2025, code)
    return res


def _demo(res: dict, travail: Path, sans_bilan: bool) -> None:
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


def _marts(res: dict, dossier: Path, n: int) -> None:
    """The marts as the pipeline materialises them beside the same SQL bare, each on a copy of the warehouse."""
    donnees, config, home = dossier / "donnees", dossier / "donnees" / "config", dossier / "home"
    print(f"Marts à l'échelle {n} : Dagster et SQL nu, même entrepôt…", flush=True)
    for variante in ("dagster", "sql"):
        (dossier / variante).mkdir()
        shutil.copy(dossier / "sortie" / "entrepot.duckdb", dossier / variante / "entrepot.duckdb")
        vider_marts(dossier / variante / "entrepot.duckdb", 2025)
    dag = pipeline(donnees, dossier / "dagster", config, home, True, "marts_dagster", seulement="marts")
    marts = [k.split("__", 1)[1] for k in etapes_annee(dag)
             if k.startswith("marts__") and k.split("__", 1)[1] not in PREPARES_EN_PYTHON]
    rapport = dossier / "marts_sql.json"
    nu = mesurer([PYTHON, str(ROOT / "bench" / "marts_sql.py"), str(dossier / "sql" / "entrepot.duckdb"),
                  "--annee", "2025", "--rapport", str(rapport), "--marts", *marts], journal=dossier / "marts_sql.log")
    nu["rapport"] = json.loads(rapport.read_text()) if rapport.is_file() else {}
    res["marts"] = {"dagster": dag, "sql": nu, "noms": marts,
                    "comptes_dagster": comptes_marts(dossier / "dagster" / "entrepot.duckdb"),
                    "comptes_sql": comptes_marts(dossier / "sql" / "entrepot.duckdb")}
    for variante in ("dagster", "sql"):
        shutil.rmtree(dossier / variante, ignore_errors=True)


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
    cmd = [_bilan(), "run", "--annee", str(ANNEE), "--donnees", str(donnees),
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
    if m["succes"]:
        return _s(m["secondes"])
    if "rapport" not in m:   # a command measured from outside: its journal says why
        return f"{_s(m['secondes'])} (ÉCHEC, code {m['code']})"
    return _s(m["secondes"]) + " (ÉCHEC : " + ", ".join(e for r in m["rapport"]["runs"] for e in r["echecs"]) + ")"


def _cible(ok: bool | None) -> str:
    return "—" if ok is None else ("**atteint**" if ok else "**non atteint**")


def objectifs_communs(res: dict, plancher: float, n_max: int) -> list[tuple[str, str, bool | None]]:
    """The targets both passes measure: the demo against the import floor, the print, the marts."""
    rows: list[tuple[str, str, bool | None]] = []
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
            rows.append((f"marts ≤ 1,5 × le SQL nu ({n_max} territoires)", f"{dag / sql:.1f} ×",
                         dag / sql <= 1.5))
    return rows


def objectifs(res: dict, plancher: float) -> list[str]:
    """The issue's targets, each with its figure measured in this pass."""
    n_max = max(res["echelles"])
    rows = objectifs_communs(res, plancher, n_max)
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
    return tableau_objectifs(rows)


def tableau_objectifs(rows: list[tuple[str, str, bool | None]]) -> list[str]:
    return ["## Les objectifs", "", "| objectif | mesuré | |", "|---|---|---|",
            *(f"| {a} | {b} | {_cible(c)} |" for a, b, c in rows), ""]


def sections_demo(res: dict, plancher: float) -> list[str]:
    L: list[str] = []
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
    return L


def section_marts(res: dict, n_max: int) -> list[str]:
    L: list[str] = []
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
    return L


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
    L += sections_demo(res, plancher)
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
    L += section_marts(res, n_max)
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


def _run_annee(m: dict, annee: str = "2025") -> float:
    """The year's Dagster run(s) launched by a measured command, start to end."""
    return sum(r["secondes"] for r in m.get("runs", {}).values() if r["annee"] == annee)


def extrapolation(res: dict) -> dict:
    """The rendering of every territory's bilans, from the sample: seconds a territory as a straight line in its
    number of QPV (least squares through the territories rendered), summed over every territory. An estimate."""
    points = [(e["qpv"], e["rendu_s"]) for e in res["echantillon"].values()]
    if "run" in res.get("depot", {}):
        points.append((res["depot"]["qpv"], rendu_s(res["depot"]["run"])))
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    pente = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    base = my - pente * mx
    qpv = res["qpv_par_territoire"]
    total = sum(max(base + pente * q, 0.0) for q in qpv.values())
    donnees = _run_annee(res["national"])
    return {"points": points, "base": base, "pente": pente, "rendu_1": total, "rendu_2": total / 2,
            "annee_1": donnees + total, "annee_2": donnees + total / 2}


def rediger_national(res: dict) -> str:
    ma, c = res["machine"], res["comptes"]
    plancher = min(m["secondes"] for m in res["import"])
    nt = c["territoires"]
    L = ["# Banc d'essai (`make bench`)", "",
         f"Mesuré le {ma['date']} (commit `{ma['commit']}`) : la passe nationale, à l'échelle {res['echelle']} du "
         f"générateur (`tools/generate_national.py`) : **{nt} territoires, {_nb(c['qpv'])} QPV** (les QPV de la "
         "couche 2024 groupés par EPCI, communes fusionnées rattachées à leur commune nouvelle). Un banc d'essai, pas "
         "un test : "
         "les chiffres dépendent de la machine et de sa charge (machine partagée : les rapports sont mesurés côte à "
         "côte, dans le même passage). Chaque run est la commande d'un utilisateur, `bilan run --annee 2025 …`, "
         "mesurée de l'extérieur (durée, pic de mémoire de l'arbre de processus relevé toutes les 0,2 s) ; les durées "
         "des étapes viennent de l'instance Dagster (`bench/etapes.py`). "
         f"Durée du passage entier : {res.get('duree_s', 0) / 60:.0f} min (cible : 30 min au plus).", "",
         "## Machine", "",
         f"- {ma['nproc']} cœurs, {_mo(ma['memoire'])} de mémoire, {ma['cpu']}",
         f"- Linux {ma['noyau']}, Python {ma['python']} ; charge au départ (1, 5, 15 min) : {ma['charge']}",
         "- " + ", ".join(f"{k} {v}" for k, v in ma["versions"].items()), ""]
    rows = objectifs_communs(res, plancher, nt)
    nat = res["national"]
    rows.append((f"année nationale des données ({nt} territoires, 2025, sans bilans) ≤ 5 min",
                 f"{_s(_run_annee(nat))} (run Dagster de 2025 ; la commande, 2024 puis 2025 : {_run(nat)})"
                 if nat["runs"] else _run(nat), _run_annee(nat) <= 300 and nat["succes"]))
    rows.append(("pic de mémoire de la passe nationale ≤ 4 Go", _mo(nat["pic_rss"]), nat["pic_rss"] <= 4 * 2**30))
    if "relance" in res:
        rel = res["relance"]
        rows.append(("relance nationale sans changement ≤ 30 s",
                     f"{_run(rel)}, {len(rel['runs'])} run(s) Dagster lancé(s)"
                     + ("" if rel["rien_relance"] else " (la commande n'a pas reconnu l'année inchangée)"),
                     rel["secondes"] <= 30 and rel["succes"] and rel["rien_relance"]))
    d = res.get("depot", {})
    if "run" in d:
        docs = d["documents"]
        rows.append((f"un fichier corrigé → les bilans de son territoire republiés ≤ 15 s ({nt} territoires)",
                     f"{_run(d['run'])} (`bilan run --territoire {d['territoire']}`, import compris ; bilan de "
                     f"{docs['pages']} pages, {docs['communes']} bilan(s) communal(aux))",
                     d["run"]["secondes"] <= 15 and d["run"]["succes"]))
        rows.append(("les autres territoires intouchés (mêmes octets)",
                     f"{d['autres_fichiers']} fichiers publiés des autres territoires, "
                     f"{len(d['autres_changes'])} changé(s)", not d["autres_changes"]))
    if res.get("echantillon"):
        x = extrapolation(res)
        rows.append((f"année nationale, tous les bilans compris, ≤ 20 min sur 2 cœurs ({nt} territoires)",
                     f"≈ {x['annee_2'] / 60:.0f} min **extrapolé** (données {_s(_run_annee(nat))} + rendu estimé "
                     f"{x['rendu_1'] / 60:.0f} min ÷ 2 processus)", x["annee_2"] <= 1200))
    L += tableau_objectifs(rows)
    L += sections_demo(res, plancher)
    L += ["## La passe nationale", "",
          f"Génération du jeu : {_s(res['generation']['secondes'])}. Volumes (`comptes.json`) : "
          + ", ".join(f"{k} {v:,}".replace(",", " ") for k, v in c.items() if isinstance(v, int)) + ".", "",
          "| commande | durée | pic mémoire | runs Dagster lancés |", "|---|---|---|---|"]
    mesures = [("`bilan run --annee 2025 --sans-bilan`, à froid (2024 puis 2025)", nat),
               ("la même, rien de changé", res.get("relance"))]
    if "run" in d:
        mesures.append((f"`--territoire {d['territoire']}` après la correction de `{d['fichier']}` "
                        f"({d['qpv']} QPV, bilans compris)", d["run"]))
    for code, e in res.get("echantillon", {}).items():
        mesures.append((f"`--territoire {code}` ({e['qpv']} QPV, bilans compris)", e["run"]))
    L += [f"| {quoi} | {_run(m)} | {_mo(m['pic_rss'])} | {len(m['runs'])} |" for quoi, m in mesures if m]
    e25 = etapes_groupees(_etapes_des_runs(nat))
    e24 = etapes_groupees(_etapes_des_runs(nat, "2024"))
    tot = sum(v for v, _ in e25.values()) or 1
    L += ["", "Où va le temps de la passe nationale (étapes Dagster, de STEP_START à STEP_SUCCESS ; les dix plus "
          "longues de 2025) :", "", "| étape | 2025 | part des étapes 2025 | 2024 |", "|---|---|---|---|"]
    for k, (v, _) in sorted(e25.items(), key=lambda kv: -kv[1][0])[:10]:
        L.append(f"| `{k}` | {_s(v)} | {100 * v / tot:.0f} % | {_s(e24[k][0]) if k in e24 else '—'} |")
    L.append("")
    if "run" in d:
        etapes = sorted(_etapes_des_runs(d["run"]).items(), key=lambda kv: -kv[1])
        L += [f"Le run du territoire corrigé : {len(etapes)} étapes en 2025, {_s(sum(v for _, v in etapes))} "
              f"d'étapes, dont le rendu {_s(rendu_s(d['run']))} ; les plus longues : "
              + ", ".join(f"`{k}` {_s(v)}" for k, v in etapes[:6]) + ".", ""]
    L += section_marts(res, nt)
    if res.get("echantillon"):
        x = extrapolation(res)
        L += ["## Les bilans : un échantillon, puis une extrapolation", "",
              "Le territoire qui a le plus de QPV et celui qui en a le moins (hors le territoire corrigé), chacun par "
              "`bilan run --annee 2025 --territoire CODE` après la passe nationale des données : seuls les actifs "
              "du bilan tournent (ses données sont celles de la passe), ses bilans sont rendus (HTML, PDF, annexe, "
              "bilans communaux).", "",
              "| territoire | QPV | pages du bilan | bilans communaux (pages) | rendu (étapes `bilan__*`) | "
              "par page |", "|---|---|---|---|---|---|"]
        for code, e in res["echantillon"].items():
            docs = e["documents"]
            pages = docs["pages"] + docs["pages_communes"]
            L.append(f"| {code} | {e['qpv']} | {docs['pages']} | {docs['communes']} ({docs['pages_communes']}) | "
                     f"{_s(e['rendu_s'])} | {_s(e['rendu_s'] / pages) if pages else '—'} |")
        L += ["", f"**Extrapolation, pas une mesure** : le rendu d'un territoire comme une droite en son nombre de "
              f"QPV, par les moindres carrés sur les {len(x['points'])} territoires rendus ("
              + ", ".join(f"{q} QPV : {_s(v)}" for q, v in x["points"])
              + f") : {_s(x['base'])} + {_s(x['pente'])} par QPV. Sommé sur les {nt} territoires : "
              f"{x['rendu_1'] / 60:.0f} min de rendu par un processus, {x['rendu_2'] / 60:.0f} min par deux si "
              "les deux lots gagnaient deux fois (non mesuré ici) ; avec l'année des données, "
              f"≈ {x['annee_1'] / 60:.0f} min et ≈ {x['annee_2'] / 60:.0f} min.", ""]
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
    return _inscrire(texte, objectif_fichier_limite(m, separe), section_fichier_limite(m, separe))


def _inscrire(texte: str, ligne: str, section: list[str]) -> str:
    lignes = texte.rstrip("\n").split("\n")
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
    if DEBUT_LIMITE in lignes and FIN_LIMITE in lignes:
        lignes[lignes.index(DEBUT_LIMITE):lignes.index(FIN_LIMITE) + 1] = section
    else:
        # after the script's sections, before a hand-written part that may follow them (« # Mesures antérieures »)
        fin = next((i for i, x in enumerate(lignes) if i > 0 and x.startswith("# ")), len(lignes))
        while fin > 0 and not lignes[fin - 1].strip():
            fin -= 1
        lignes[fin:fin] = ["", *section]
    return "\n".join(lignes) + "\n"


def reprendre(texte: str, ancien: str) -> str:
    """A new passage's RESULTS.md keeping from the earlier one what it did not measure: the file at the row limit
    (its own passage, `--seulement-fichier-limite`) and the hand-written parts after the script's sections."""
    lignes = ancien.rstrip("\n").split("\n")
    if DEBUT_LIMITE in lignes and FIN_LIMITE in lignes and OBJECTIF_LIMITE not in texte:
        ligne = next((x for x in lignes if x.startswith(OBJECTIF_LIMITE)), None)
        section = lignes[lignes.index(DEBUT_LIMITE):lignes.index(FIN_LIMITE) + 1]
        if ligne is not None:
            texte = _inscrire(texte, ligne, section)
    main_ = next((i for i, x in enumerate(lignes) if i > 0 and x.startswith("# ")), None)
    if main_ is not None:
        texte = texte.rstrip("\n") + "\n\n" + "\n".join(lignes[main_:]) + "\n"
    return texte


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--echelle-nationale", type=int, default=int(os.environ.get("ECHELLE", ECHELLE_NATIONALE)),
                        help="la passe nationale (par défaut) : échelle du générateur (435 : tous les EPCI à QPV)")
    parser.add_argument("--echelles", default=os.environ.get("ECHELLES") or None,
                        help="au lieu de la passe nationale, l'ancien balayage : ces échelles l'une après l'autre, "
                             f"bilans compris (par exemple « {' '.join(map(str, ECHELLES))} » : plusieurs heures)")
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
    if args.echelles is None:
        debut = time.perf_counter()
        res = executer_national(args.echelle_nationale, travail, demo=not args.sans_demo)
        res["duree_s"] = time.perf_counter() - debut
        (travail / "resultats.json").write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
        ancien = resultats.read_text(encoding="utf-8") if resultats.is_file() else ""
        resultats.write_text(reprendre(rediger_national(res) + "\n", ancien), encoding="utf-8")
        print(f"Résultats : {resultats} (mesures brutes : {travail / 'resultats.json'})")
        return 0 if res["national"]["succes"] else 1
    echelles = sorted({int(x) for x in args.echelles.replace(",", " ").split()})
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
