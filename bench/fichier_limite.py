"""A valid partner file at the documented limits (config/settings.yaml, `limites`): an engagements file of
`limites.lignes` rows (500 000) under `limites.taille_fichier_mo` (50 Mo), every row valid against the engagements
contract (config/contrats/engagements.yaml) for the demo territory, so that the whole file reaches the bilan. A
benchmark input, not a test: the bilan must come out of it within the memory target (issue 28).

    python bench/fichier_limite.py --donnees /tmp/limite [--lignes 500000] [--graine 0]
    /usr/bin/time -v bilan run --annee 2025 --donnees /tmp/limite --sortie /tmp/limite-sortie

`make bench` measures it (bench/run_bench.py, RESULTS.md « Un fichier valide à la limite de lignes » and its targets
row); alone, without the national scales: `python bench/run_bench.py --seulement-fichier-limite`. `time -v` gives the
largest process's peak; the benchmark's target is on the whole process tree (Chromium included).

`--donnees DIR`: a copy of data/demo (made if DIR does not exist) with the file added to its 2025 inbox of the CCCO;
`--fichier F`: only the file. Each row is one commitment of a partner the referential declares, under an indicator
of its own (a commitment the referential does not cite: shown in the bilan, cited by no indicator); one in ten is
given for one QPV; targets, achieved values (one in ten left blank: « non renseigné ») and droit commun vary.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TERRITOIRE, ANNEE = "ccco", 2025
NOM = f"engagements_{ANNEE}_limite.csv"
COLONNES = ["partenaire", "type_partenaire", "annee", "code_objectif", "engagement", "indicateur", "unite",
            "valeur_cible", "valeur_realisee", "code_qpv", "montant_droit_commun", "commentaire"]


def lignes(n: int, graine: int = 0) -> list[list[str]]:
    """`n` valid engagements rows of the demo territory, the same for the same seed."""
    from core.config.projet import ProjectConfig

    config = ProjectConfig()
    territoire = config.territoire(TERRITOIRE)
    referentiel = config.referentiel(territoire.referentiel)
    partenaires = [p.nom for p in referentiel.partenaires]
    objectifs = [o.code for a in referentiel.axes for o in a.objectifs]
    qpv = [q.code for q in territoire.qpv]
    rng = random.Random(graine)
    out = []
    for i in range(n):
        unite = "pourcentage" if i % 10 == 3 else "euros" if i % 10 == 7 else "nombre"
        cible = rng.randint(1, 100) if unite == "pourcentage" else rng.randint(1, 2000)
        realise = "" if i % 10 == 5 else str(min(100, round(cible * rng.uniform(0.2, 1.3))) if unite == "pourcentage"
                                             else round(cible * rng.uniform(0.2, 1.3)))
        out.append([rng.choice(partenaires), "", str(ANNEE), rng.choice(objectifs),
                    f"action {i}", f"indicateur {i}", unite, str(cible), realise,
                    qpv[(i // 10) % len(qpv)] if i % 10 == 9 else "",
                    str(rng.randint(1000, 90000)) if i % 20 == 1 else "", ""])
    return out


def ecrire(chemin: Path, n: int, graine: int = 0) -> Path:
    chemin.parent.mkdir(parents=True, exist_ok=True)
    with chemin.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLONNES)
        writer.writerows(lignes(n, graine))
    return chemin


def main() -> int:
    from core.config.projet import ProjectConfig

    limites = ProjectConfig().settings.limites
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lignes", type=int, default=limites.lignes)
    parser.add_argument("--graine", type=int, default=0)
    cible = parser.add_mutually_exclusive_group(required=True)
    cible.add_argument("--donnees", type=Path, help="copie de data/demo, créée si absente, où ajouter le fichier")
    cible.add_argument("--fichier", type=Path)
    args = parser.parse_args()
    if args.donnees and not args.donnees.exists():
        shutil.copytree(ROOT / "data" / "demo", args.donnees)
    chemin = ecrire(args.fichier or args.donnees / "inbox" / TERRITOIRE / str(ANNEE) / NOM, args.lignes, args.graine)
    taille_mo = chemin.stat().st_size / 1_048_576
    print(f"{chemin} : {args.lignes} lignes, {taille_mo:.1f} Mo (limites : {limites.lignes} lignes, "
          f"{limites.taille_fichier_mo:g} Mo)")
    if args.lignes > limites.lignes or taille_mo > limites.taille_fichier_mo:
        print("Au-delà des limites : ce fichier sera refusé, pas lu.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
