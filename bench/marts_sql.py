"""The marts with nothing but DuckDB: the SQL files of assets/marts/ run in order on a warehouse where staging is
done, no Dagster, no checks, no metadata. The bare floor the marts assets are compared with.

    python bench/marts_sql.py ENTREPOT.duckdb --annee 2025 --rapport out.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

DEBUT = time.perf_counter()

import duckdb  # noqa: E402
import jinja2  # noqa: E402

SQL_DIR = Path(__file__).resolve().parent.parent / "assets" / "marts"


def vocabulaire(con) -> SimpleNamespace:
    domaines: dict[str, list] = {}
    lignes = con.execute("SELECT domaine, code, libelle, rang, mois, positive FROM ref.vocabulaire "
                         "ORDER BY domaine, rang").fetchall()
    for domaine, code, libelle, rang, mois, positive in lignes:
        domaines.setdefault(domaine, []).append(SimpleNamespace(code=code, libelle=libelle, rang=rang, mois=mois,
                                                                positive=positive))
    return SimpleNamespace(**domaines)


def instructions(nom: str, con, annee: int) -> list[str]:
    # a mart's SQL lies beside its asset, in assets/marts/ or a sub-folder of it (marts/rejets/)
    chemin = next(SQL_DIR.rglob(nom), None)
    if chemin is None:
        raise SystemExit(f"{nom} introuvable sous {SQL_DIR}")
    texte = chemin.read_text(encoding="utf-8")
    if "{%" in texte or "{{" in texte:  # the files that turn a vocabulary list into columns are Jinja templates
        texte = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(texte).render(
            vocabulaire=vocabulaire(con))
    morceaux = [s.strip() for s in re.split(r";\s*(?:\n|$)", texte)]
    utiles = [s for s in morceaux
              if any(x.strip() and not x.strip().startswith("--") for x in s.splitlines())]
    return [s.replace("$annee", str(int(annee))) for s in utiles]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("entrepot")
    parser.add_argument("--annee", type=int, default=2025)
    parser.add_argument("--marts", nargs="+", required=True, help="noms des marts, dans l'ordre du graphe")
    parser.add_argument("--rapport", required=True)
    args = parser.parse_args()
    import_s = time.perf_counter() - DEBUT
    durees = {}
    with duckdb.connect(args.entrepot) as con:
        for nom in ["schema", *args.marts]:
            t0 = time.perf_counter()
            con.execute("BEGIN")
            for instruction in instructions(f"{nom}.sql", con, args.annee):
                con.execute(instruction)
            con.execute("COMMIT")
            durees[nom] = time.perf_counter() - t0
    Path(args.rapport).write_text(json.dumps({"import_s": import_s, "etapes": durees,
                                              "total_s": time.perf_counter() - DEBUT}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
