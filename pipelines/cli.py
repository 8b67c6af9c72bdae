"""`bilan` — the data steward's command line.

    bilan run --annee 2025 [--donnees DIR] [--sortie DIR] [--config DIR] [--attente SECONDES] [--processus N]
    bilan verifier FICHIER [--territoire ccco] [--annee 2025]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import pandas as pd

from pipelines.arguments import FrenchParser, count, seconds, year
from pipelines.failures import (
    FRENCH_ERRORS,
    UNEXPECTED_TODO,
    journal_line,
    paragraph,
    step_name,
    write_journal,
)

EXIT_OK, EXIT_ROW_ERRORS, EXIT_UNREADABLE, EXIT_BUSY = 0, 1, 2, 3

EXIT_CODES = """codes de sortie :
  0  tout va bien
  1  bilan run : une étape a échoué, ou erreur inattendue ; bilan verifier : des lignes sont à corriger
  2  fichier illisible ou refusé, configuration, BILAN_ENVIRONNEMENT ou clé de pseudonymisation invalide, année
     hors du contrat, commande mal écrite ; bilan verifier : erreur inattendue
  3  bilan run : l'entrepôt (sortie/entrepot.duckdb) est utilisé par un autre run et l'est resté au-delà de
     l'attente (réglage entrepot.attente_verrou_s de config/settings.yaml, ou --attente) ; rien n'a été écrit

Une étape en échec ou une erreur inattendue est résumée en français ; le détail technique (traces Python) est
écrit dans un journal, sortie/journaux/, lisible de ce seul compte, dont le chemin est affiché.

Un seul run à la fois écrit dans un entrepôt : un second run attend la fin du premier. `bilan verifier` ne
l'attend jamais : il lit l'instantané laissé par le dernier run (sortie/instantane/)."""

# Dagster's console logger prints a failed step with its Python traces: the console gets a French summary instead
# (`_succeeded`), the traces go to the run's journal
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


# --- bilan run ------------------------------------------------------------------------------------


def _inbox_years(data_root: Path) -> set[int]:
    inbox = data_root / "inbox"
    return {int(p.name) for p in inbox.glob("*/*") if p.is_dir() and p.name.isdigit()} if inbox.is_dir() else set()


def years_to_run(requested: int, data_root: Path, configured: list[int]) -> list[int]:
    """Reports and cohorts refer to earlier years' programming: the earlier inbox years are loaded first
    (cheap on a second run: files already read come from the cache)."""
    earlier = {y for y in _inbox_years(data_root) if y < requested and y in configured}
    return sorted(earlier | {requested})


def _instance():
    from dagster import DagsterInstance

    return DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    logging.getLogger("bilan").setLevel(logging.INFO)
    started = time.perf_counter()
    print("Chargement de Dagster et des définitions…", flush=True)
    from core.config.base import ConfigurationError
    from core.pseudonymisation import CleInvalide
    from core.resources import BilanSettings, warehouse
    from core.verrou import WarehouseBusy, verrou_entrepot

    parametres = BilanSettings(racine_donnees=str(Path(args.donnees).resolve()),
                               sortie=str(Path(args.sortie).resolve()), dossier_config=str(Path(args.config).resolve()),
                               pdf=os.environ.get("BILAN_PDF", "oui").strip().lower() not in ("non", "0"))
    # the step processes of a multiprocess run (`--processus`) build their resources from these
    os.environ.update(BILAN_DONNEES=parametres.racine_donnees, BILAN_SORTIE=parametres.sortie,
                      BILAN_CONFIG=parametres.dossier_config)
    from core.portee import PorteeInvalide, parse

    try:
        configured = parametres.config.settings.annees
        parametres.territoires(log=print)
        args.portee = parse(args.territoire, parametres.config.territoires)
        # the same checks as `bilan config verifier`, on the run's territories: a territory contradicting the national
        # references stops its runs here, not a steward's run of another territory
        if _config_findings(parametres.config, list(args.portee.territoires) or None, quiet=True):
            return EXIT_UNREADABLE
        parametres.pseudonymiser()  # before any file is touched: a key mistake stops the run here
    except ConfigurationError as exc:
        print(f"Configuration invalide :\n{exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except CleInvalide as exc:
        print(f"{_key_title(exc)} : {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except PorteeInvalide as exc:
        print(f"--territoire : {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    if args.annee not in configured:
        print(f"Année {args.annee} hors du contrat (années configurées : {configured})", file=sys.stderr)
        return EXIT_UNREADABLE
    attente = parametres.config.settings.entrepot.attente_verrou_s if args.attente is None else args.attente
    entrepot = warehouse(parametres.warehouse_path, attente_verrou_s=attente, config=parametres.config)
    try:
        # held across the years and the summary; each run below takes it again through the `entrepot` resource
        with verrou_entrepot(parametres.warehouse_path, attente, log=lambda m: print(m, flush=True)):
            return _run_years(args, parametres, entrepot, configured, started)
    except WarehouseBusy as exc:
        print(f"\nRUN NON LANCÉ : {exc}", file=sys.stderr)
        return EXIT_BUSY


def _run_years(args, parametres, entrepot, configured: list[int], started: float) -> int:
    from core.reprise import record_year, unchanged_since, year_records
    from pipelines.annees import outputs_fingerprint, year_fingerprint

    instance = None  # Dagster and the definitions are imported for a year to run only: a no-op rerun takes seconds
    parallel = args.processus > 1
    portee = args.portee
    for annee in years_to_run(args.annee, parametres.data_root, configured):
        print(f"\n=== Année {annee} — {portee.label()} — données {parametres.data_root}, sortie "
              f"{parametres.output_dir}", flush=True)
        requested = annee == args.annee
        fingerprints = year_fingerprint(parametres, annee, portee)
        # the requested year's record also names what it published, and whether its bilans were rendered: the data
        # pass without them (`--sans-bilan`) leaves, for a run with them, the bilan's assets alone to run
        published = "sans-bilan|" if requested and args.sans_bilan else ""
        records: dict[str, tuple[str, str]] = {}
        if not (requested and args.forcer):
            outputs = outputs_fingerprint(parametres, annee, portee) if requested else {}
            now = {t: e.avec_sorties(published + outputs.get(t, "")) for t, e in fingerprints.items()}
            with entrepot.get_connection() as con:
                records = year_records(con, annee, list(now))
            last = unchanged_since(records, {t: e.texte() for t, e in now.items()})
            if last is not None:
                print(f"Année {annee} : mêmes fichiers, même configuration et même code que le run {last}"
                      + ((", et ses tables telles qu'il les a publiées" if args.sans_bilan
                          else ", et ses bilans tels qu'il les a publiés")
                         + " : rien n'est relancé (--forcer pour le relancer)"
                         if requested else ", reprise telle quelle (rien à refaire)"), flush=True)
                continue
        from dagster import materialize

        from pipelines.definitions import ALL_ASSETS, ALL_CHECKS, WITHOUT_BILAN

        instance = instance or _instance()
        # earlier years are loaded for what later years refer to; only the requested year's bilan is published
        selection = None if requested and not (parallel or args.sans_bilan) else WITHOUT_BILAN
        if requested and records:
            selection = _stale(records, now, selection, annee)
        result = materialize(
            [*ALL_ASSETS, *ALL_CHECKS], partition_key=str(annee), instance=instance, selection=selection,
            resources={"parametres": parametres, "entrepot": entrepot}, run_config=QUIET_CONSOLE,
            raise_on_error=False, tags=portee.tags(),
        )
        if not _succeeded(result, parametres.output_dir):
            return EXIT_ROW_ERRORS
        bilans_apart = requested and parallel and not args.sans_bilan
        if bilans_apart and not _succeeded(run_bilans(parametres, entrepot, annee, args.processus, instance, portee),
                                           parametres.output_dir):
            return EXIT_ROW_ERRORS
        outputs = outputs_fingerprint(parametres, annee, portee) if requested else {}
        with entrepot.get_connection() as con:
            # the inputs as they were when the run started, what it published as it is now
            record_year(con, annee, portee, {t: e.avec_sorties(published + outputs.get(t, "")).texte()
                                             for t, e in fingerprints.items()}, result.run_id)
    _summary(entrepot, parametres, args.annee, portee)
    print(f"\nTerminé en {time.perf_counter() - started:.1f} s.")
    return EXIT_OK


def _stale(records: dict[str, tuple[str, str]], now: dict, selection: list | None, annee: int) -> list | None:
    """The requested year's assets that what changed since each territory's record reaches: downstream of the
    sources whose files of the year changed, and the bilan's when only what was published did. Everything
    (`selection`) when a territory has no record, or its configuration, code, key or earlier years changed."""
    from dagster import AssetKey, AssetSelection

    from pipelines.annees import changes
    from pipelines.definitions import ALL_ASSETS, defs

    changed: set[str] = set()
    for territoire, empreinte in now.items():
        found = changes(records[territoire][0], empreinte) if territoire in records else None
        if found is None:
            return selection
        changed |= found
    graph = defs.resolve_asset_graph()
    sources = [AssetKey(["sources", f]) for f in sorted(changed) if graph.has(AssetKey(["sources", f]))]
    stale: AssetSelection = AssetSelection.assets(*sources).downstream() if sources else AssetSelection.assets()
    if "bilan" in changed:
        stale = stale | AssetSelection.groups("bilan")
    keys = stale.resolve(graph)
    kept = [k for a in ALL_ASSETS for k in a.keys if k in keys and (selection is None or k in selection)]
    if not kept:
        return selection
    total = sum(1 for a in ALL_ASSETS for k in a.keys if selection is None or k in selection)
    print(f"Année {annee} : depuis le dernier run, seuls ont changé {', '.join(sorted(changed))} ; "
          f"{len(kept)} actifs sur {total} relancés (ceux qui en dépendent)", flush=True)
    return kept


def _succeeded(result, output_dir: Path) -> bool:
    """A failed run: a French paragraph per failed step on the console, every error with its traces in the run's
    journal (sortie/journaux/run_<id>.log), whose path is printed."""
    if result.success:
        print(f"Run Dagster {result.run_id} réussi.")
        return True
    errors = [(e, info) for e in result.all_events if (info := getattr(e.event_specific_data, "error", None))]
    failed = [(e.step_key or "?", info) for e, info in errors if e.is_step_failure]
    detail = "\n\n".join(f"=== {e.event_type_value} — étape {e.step_key or '(aucune)'}\n{e.message or ''}\n\n"
                         f"{info.to_string()}" for e, info in errors)
    journal = write_journal(output_dir, f"run_{result.run_id}.log",
                             f"Run Dagster {result.run_id} en échec\n\n{detail}")
    lines = [f"\nÉCHEC du run {result.run_id} : {len(failed)} étape(s) en échec ; celles qui en dépendent n'ont pas "
             "été lancées."]
    lines += [paragraph(step_name(step), info) for step, info in failed]
    if not failed:
        lines.append(paragraph("le run, avant ses étapes,", errors[0][1]) if errors else
                     "- Le run a échoué sans dire pourquoi.")
    lines.append(journal_line(journal))
    print("\n".join(lines), file=sys.stderr)
    return False


def run_bilans(parametres, entrepot, annee: int, processus: int, instance, portee=None):
    """The year's bilans on Dagster's multiprocess executor (job `bilans_en_parallele`): `processus` render
    batches at once, each in its own process, working under this run's warehouse lock. With nothing to render (every
    bilan was last published from the same tables), in this process: starting render processes costs more."""
    from dagster import DagsterInstance, execute_job, materialize, reconstructable

    from assets.bilan import territories_to_render
    from core.portee import NATIONALE
    from pipelines.definitions import ALL_ASSETS, ALL_CHECKS, ONLY_BILAN, parallel_bilans_job
    from pipelines.jobs import bilans_run_config

    portee = portee or NATIONALE
    with entrepot.get_connection() as con:
        pending = territories_to_render(con, parametres, annee, portee)
    if not pending:
        print(f"Bilans {annee} : tous publiés des mêmes tables, rien à rendre (dans ce processus)", flush=True)
        return materialize([*ALL_ASSETS, *ALL_CHECKS], partition_key=str(annee), instance=instance,
                           selection=ONLY_BILAN, resources={"parametres": parametres, "entrepot": entrepot},
                           run_config=QUIET_CONSOLE, raise_on_error=False, tags=portee.tags())
    reasons = Counter(part for parts in pending.values() for part in parts)
    first = sum(1 for parts in pending.values() if not parts)
    print(f"Bilans {annee} : {len(pending)} territoire(s) à revoir ("
          + ", ".join([*(f"{part} changé(e) pour {n}" for part, n in reasons.most_common()),
                       *([f"{first} sans rendu enregistré des mêmes entrées"] if first else [])])
          + f"), lots de territoires rendus par {processus} processus à la fois…", flush=True)
    # the step processes share the run's instance: a persistent one (DAGSTER_HOME), or a temporary one
    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.local_temp()
    with instance:
        return execute_job(
            reconstructable(parallel_bilans_job), instance=instance,
            tags={"dagster/partition": str(annee), **portee.tags()},
            run_config={**bilans_run_config(processus), **QUIET_CONSOLE}, raise_on_error=False)


def _summary(entrepot, parametres, annee: int, portee=None) -> None:
    from core.portee import NATIONALE

    portee = portee or NATIONALE
    with entrepot.get_connection() as con:
        files = con.execute(
            "SELECT famille, territoire, fichier, statut, lignes_lues, lignes_retenues, lignes_quarantaine, "
            f"lu_depuis FROM staging.qualite_fichiers WHERE annee_boite = ? AND {portee.predicate()} "
            "ORDER BY famille, territoire, fichier", [annee]).df()
    files.columns = ["famille", "territoire", "fichier", "statut", "lues", "retenues", "quarantaine", "lu depuis"]
    print(f"\nRésumé {annee} — par famille et fichier :")
    print(files.to_string(index=False))
    totals = files.groupby("famille")[["lues", "retenues", "quarantaine"]].sum()
    print("\nTotaux par famille :")
    print(totals.to_string())
    print(f"\nLignes lues : {files['lues'].sum()} — retenues : {files['retenues'].sum()} — "
          f"en quarantaine : {files['quarantaine'].sum()}")
    from assets.sources import unknown_territory_folders

    strays = unknown_territory_folders(parametres.data_root, list(parametres.config.territoires), annee)
    if strays:
        print(f"\nATTENTION : {len(strays)} fichier(s) non lu(s), dans un dossier de la boîte de dépôt qui n'est pas "
              f"un territoire configuré (territoires : {', '.join(sorted(parametres.config.territoires))}) :")
        for folder, name, _, _ in strays:
            print(f"  inbox/{folder}/{annee}/{name}")
    out = parametres.output_dir
    print(f"Entrepôt DuckDB : {parametres.warehouse_path}")
    print(f"Qualité par fichier : {out / str(annee) / 'qualite_fichiers.csv'}")
    print(f"Quarantaine : {out / str(annee) / 'quarantaine.csv'}")
    for bilan in sorted((out / str(annee)).glob("*/bilan_*")):
        if portee.keeps(bilan.parent.name):
            print(f"Bilan : {bilan}")


# --- bilan verifier -------------------------------------------------------------------------------


def _guess(path: Path, args: argparse.Namespace, territoires: dict) -> tuple[str, int]:
    annee = args.annee
    if annee is None:
        annee = int(path.parent.name) if path.parent.name.isdigit() else pd.Timestamp.today().year
    territoire = args.territoire
    if territoire is None:
        from core.config.base import ConfigurationError

        # inbox/<territoire>/<annee>/<fichier>: the folder says the territory, or says nothing known
        folder = path.absolute().parent.parent
        in_inbox = folder.parent.name == "inbox" and path.parent.name.isdigit()
        if folder.name in territoires:
            territoire = folder.name
        elif len(territoires) == 1 and not in_inbox:
            territoire = next(iter(territoires))
        else:
            where = (f"le dossier inbox/{folder.name}/ n'est pas un territoire configuré" if in_inbox
                     else "son dossier ne dit pas de quel territoire il est")
            raise ConfigurationError(f"{path.name} : {where} (territoires configurés : "
                                     f"{', '.join(sorted(territoires))}) — précisez --territoire CODE")
    return territoire, annee


def verifier(args: argparse.Namespace) -> int:
    from assets.staging.verification import verify
    from core.config.base import ConfigurationError
    from core.familles.contract import AVERTISSEMENT
    from core.familles.registry import FAMILIES, family_of
    from core.pseudonymisation import CleInvalide
    from core.resources import BilanSettings

    path = Path(args.fichier)
    if not path.is_file():
        why = "ce n'est pas un fichier (dossier, tube ou périphérique)" if path.exists() else "fichier introuvable"
        print(f"{path} : {why}", file=sys.stderr)
        return EXIT_UNREADABLE
    family = family_of(path.name)
    if family is None:
        print(f"{path.name} : famille inconnue — le nom doit commencer par "
              f"{', '.join(sorted(FAMILIES))}", file=sys.stderr)
        return EXIT_UNREADABLE
    parametres = BilanSettings(sortie=str(Path(args.sortie).resolve()), dossier_config=str(Path(args.config).resolve()))
    try:
        code, annee = _guess(path, args, parametres.config.territoires)
        parametres.config.territoire(code)
        # checked for every family, as `bilan run` does: a key or environment mistake shows before the run
        parametres.pseudonymiser(quiet=family.name != "cohortes")
    except ConfigurationError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_UNREADABLE
    except CleInvalide as exc:
        print(f"{_key_title(exc)} : {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    print(f"Vérification de {path.name} — famille « {family.name} », territoire {code}, année {annee}")
    verdict = verify(parametres, family, code, annee, path)
    if verdict.refus is not None:
        print(f"\nFICHIER REFUSÉ : {verdict.refus}")
        return EXIT_UNREADABLE
    if verdict.encodage:
        print(f"Lu en {verdict.encodage}, séparateur « {verdict.separateur} »")
    if verdict.colonnes_inconnues:
        print(f"Colonnes inconnues, ignorées : {', '.join(verdict.colonnes_inconnues)}")
    if verdict.colonnes_supprimees:
        print(f"Colonnes hors contrat supprimées à la lecture (données personnelles possibles) : "
              f"{', '.join(verdict.colonnes_supprimees)}")
    for e in verdict.problemes:
        sheet = f"feuille « {e.feuille} », " if e.feuille else ""
        level = "AVERTISSEMENT" if e.gravite == AVERTISSEMENT else "ERREUR"
        print(f"  {level} {sheet}ligne {e.ligne}, colonne « {e.colonne} » : {e.message} "
              f"[{e.regle} : {e.regle_decrite}]")
    print(f"\nRésumé : {verdict.lignes_lues} lignes lues, {verdict.lignes_correctes} correctes, "
          f"{verdict.lignes_a_corriger} à corriger ({verdict.erreurs} erreur(s)), {verdict.avertissements} "
          "avertissement(s).")
    if verdict.note_croisee:
        print(verdict.note_croisee)
    return EXIT_ROW_ERRORS if verdict.lignes_a_corriger else EXIT_OK


def _key_title(exc: Exception) -> str:
    return "Environnement" if type(exc).__name__ == "EnvironnementInvalide" else "Clé de pseudonymisation"


def _unexpected(args: argparse.Namespace, exc: Exception) -> int:
    """An error outside Dagster's steps: a French message and the journal's path, never a trace on the console."""
    output_dir = Path(getattr(args, "sortie", "sortie")).resolve()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    trace = "".join(traceback.format_exception(exc))
    journal = write_journal(output_dir, f"{args.commande}_{stamp}_{os.getpid()}.log",
                             f"bilan {args.commande} : erreur inattendue\n\n{trace}")
    name = type(exc).__name__
    why = str(exc) if name in FRENCH_ERRORS else f"erreur inattendue du programme ({name})"
    todo = FRENCH_ERRORS.get(name, UNEXPECTED_TODO)
    print(f"\nÉCHEC de `bilan {args.commande}` : {why.rstrip('.')}. Que faire : {todo}.\n"
          f"{journal_line(journal)}", file=sys.stderr)
    return EXIT_ROW_ERRORS if args.commande == "run" else EXIT_UNREADABLE


def _config_findings(config, territoires: list[str] | None, quiet: bool = False) -> int:
    """Prints the configuration's findings against the national references; returns how many are errors. `quiet`:
    only the errors and a count of the points to check (the start of a run)."""
    from core.config_check import ERREUR, check_configuration

    found, missing = check_configuration(config, territoires)
    errors = [f for f in found if f.gravite == ERREUR]
    for line in missing:
        print(f"Non vérifié : {line}", file=sys.stderr)
    for f in found if not quiet else errors:
        print(f"{'Erreur' if f.gravite == ERREUR else 'À vérifier'} : {f}", file=sys.stderr if f in errors else
              sys.stdout)
    if quiet and len(found) > len(errors):
        print(f"Configuration : {len(found) - len(errors)} point(s) à vérifier (`bilan config verifier` les "
              "détaille).")
    if errors:
        print(f"Configuration en contradiction avec les références nationales : {len(errors)} erreur(s). Que faire : "
              "corrigez les clés nommées, puis relancez.", file=sys.stderr)
    return len(errors)


def config_verifier(args: argparse.Namespace) -> int:
    """`bilan config verifier`: every territory (or one) against the national references, nothing run."""
    from core.config.base import ConfigurationError
    from core.config.projet import ProjectConfig

    try:
        config = ProjectConfig(Path(args.config).resolve())
        if args.territoire:
            config.territoire(args.territoire)
        errors = _config_findings(config, [args.territoire] if args.territoire else None)
    except ConfigurationError as exc:
        print(f"Configuration invalide :\n{exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    if not errors:
        checked = [args.territoire] if args.territoire else list(config.territoires)
        print(f"Aucune erreur : configuration conforme aux références nationales ({', '.join(checked)}).")
    return EXIT_UNREADABLE if errors else 0


def territoire_nouveau(args: argparse.Namespace) -> int:
    """`bilan territoire nouveau`: a territory and its referential written from the national references."""
    import datetime as dt

    from core.config.base import ConfigurationError
    from core.config.projet import ProjectConfig
    from core.decoupage import load_decoupage
    from core.reference import load_reference
    from core.scaffold import TODO, territory_code, write_scaffold

    config = ProjectConfig(Path(args.config).resolve())
    try:
        decoupage = load_decoupage(config)
    except ConfigurationError as exc:
        print(f"Configuration invalide :\n{exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    if decoupage is None:
        print("Découpage administratif illisible (config/settings.yaml, `decoupage_administratif`) : ni la copie "
              "locale ni l'adresse ne répondent. Que faire : déposez epci.json et communes.json d'Etalab à l'endroit "
              "que nomme `fichier_local`, puis relancez.", file=sys.stderr)
        return EXIT_UNREADABLE
    if args.siren:
        epci = decoupage.epci.get(args.siren)
        if epci is None:
            print(f"SIREN « {args.siren} » inconnu du découpage administratif {decoupage.millesime} (EPCI à "
                  "fiscalité propre). Que faire : vérifiez-le sur annuaire-entreprises.data.gouv.fr, ou cherchez "
                  "l'EPCI par son nom avec --epci.", file=sys.stderr)
            return EXIT_UNREADABLE
    else:
        found = decoupage.search(args.epci)
        if len(found) != 1:
            names = "; ".join(f"{e.nom} (SIREN {e.siren})" for e in found[:10]) or "aucun"
            print(f"« {args.epci} » désigne {len(found)} EPCI : {names}. Que faire : précisez le nom, ou donnez le "
                  "SIREN avec --siren.", file=sys.stderr)
            return EXIT_UNREADABLE
        epci = found[0]
    code = args.code or territory_code(epci)
    try:
        written = write_scaffold(config.dir, epci, code, decoupage, load_reference(config), dt.date.today(),
                                 args.force)
    except FileExistsError as exc:
        print(f"Fichier(s) déjà présent(s) : {exc}. Que faire : choisissez un autre code avec --code, ou "
              "remplacez-les avec --force.", file=sys.stderr)
        return EXIT_UNREADABLE
    print(f"{epci.nom} (SIREN {epci.siren}, {len(epci.membres)} communes) : " + ", ".join(str(p) for p in written))
    print(f"À compléter là où il est écrit « {TODO} » (populations des QPV, cibles, partenaires, bailleurs, dates de "
          f"COPIL), puis : bilan config verifier --territoire {code}")
    return 0


def _config_option(parser: argparse.ArgumentParser) -> None:
    """--config, the same for every command that reads the configuration."""
    parser.add_argument("--config", default=os.environ.get("BILAN_CONFIG", "config"), metavar="DOSSIER",
                        help="dossier de configuration (territoires, référentiels, réglages) ; par défaut "
                             "BILAN_CONFIG, sinon config/")


def main(argv: list[str] | None = None) -> int:
    parser = FrenchParser(prog="bilan", description="Bilan annuel des contrats de ville.",
                          epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="commande", required=True, title="commandes",
                                metavar="{run,verifier,config,territoire,portail}")
    p_run = sub.add_parser("run", help="matérialise tout le graphe pour une année", epilog=EXIT_CODES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    p_run.add_argument("--annee", type=year, required=True, help="l'année de programmation à produire, ex. 2025")
    p_run.add_argument("--attente", type=seconds, metavar="SECONDES",
                       help="si un autre run utilise l'entrepôt, l'attendre au plus SECONDES secondes puis "
                            "s'arrêter (code 3) ; par défaut entrepot.attente_verrou_s de config/settings.yaml")
    p_run.add_argument("--donnees", default=os.environ.get("BILAN_DONNEES", "data/demo"), metavar="DOSSIER",
                       help="dossier des données (boîte de dépôt inbox/) ; par défaut BILAN_DONNEES, sinon data/demo")
    p_run.add_argument("--sortie", default=os.environ.get("BILAN_SORTIE", "sortie"), metavar="DOSSIER",
                       help="dossier de sortie (entrepôt, bilans, journaux) ; par défaut BILAN_SORTIE, sinon sortie")
    _config_option(p_run)
    p_run.add_argument("--territoire", action="append", metavar="CODE",
                       help="ne lire et n'écrire que ce territoire (ses fichiers, ses lignes, ses bilans ; les autres "
                            "restent tels quels) ; répétable, ou codes séparés par des virgules ; par défaut tous")
    p_run.add_argument("--forcer", action="store_true",
                       help="relancer l'année demandée même si ni ses fichiers, ni la configuration, ni le code, "
                            "ni ses bilans publiés n'ont changé depuis son dernier run (chaque étape reprend alors "
                            "son résultat du journal des calculs)")
    p_run.add_argument("--sans-bilan", action="store_true",
                       help="les données de l'année seulement (fichiers lus, contrôles, marts, référentiel, tables "
                            "publiées, retours aux partenaires), sans rendre les bilans : la passe nationale des "
                            "données, les bilans venant ensuite territoire par territoire")
    p_run.add_argument("--processus", type=count, default=1, metavar="N",
                       help="rendre les bilans par N processus à la fois (exécuteur multiprocessus de Dagster, "
                            "lots de rendu.territoires_par_lot territoires) ; par défaut 1, tout dans ce processus")
    p_run.set_defaults(func=run)
    p_ver = sub.add_parser("verifier", help="vérifie un fichier partenaire contre son contrat", epilog=EXIT_CODES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    p_ver.add_argument("fichier", metavar="FICHIER", help="le fichier à vérifier (CSV ou XLSX)")
    p_ver.add_argument("--territoire", metavar="CODE",
                       help="code du territoire (ex. ccco) ; par défaut deviné du dossier inbox/<territoire>/<annee>/")
    p_ver.add_argument("--annee", type=year, help="année de la boîte de dépôt ; par défaut devinée du dossier")
    p_ver.add_argument("--sortie", default=os.environ.get("BILAN_SORTIE", "sortie"), metavar="DOSSIER",
                       help="dossier de sortie du dernier run (programmation déjà connue) ; par défaut "
                            "BILAN_SORTIE, sinon sortie")
    _config_option(p_ver)
    p_ver.set_defaults(func=verifier)
    p_conf = sub.add_parser("config", help="vérifie la configuration contre les références nationales",
                            epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    conf_sub = p_conf.add_subparsers(dest="action", required=True, title="actions", metavar="{verifier}")
    p_cv = conf_sub.add_parser("verifier", help="chaque territoire contre le découpage administratif et les QPV 2024 "
                                                "(SIREN, communes, QPV), sans rien exécuter",
                               epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p_cv.add_argument("--territoire", metavar="CODE", help="un seul territoire (ex. ccco) ; par défaut tous")
    _config_option(p_cv)
    p_cv.set_defaults(func=config_verifier)
    from portail.commandes import add_parser as add_portail_parser

    add_portail_parser(sub, _config_option, year)
    p_terr = sub.add_parser("territoire", help="écrit un nouveau territoire depuis les références nationales",
                            epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    terr_sub = p_terr.add_subparsers(dest="action", required=True, title="actions", metavar="{nouveau}")
    p_new = terr_sub.add_parser("nouveau", help="config/territoires/<code>.yaml et son référentiel, depuis le SIREN ou "
                                                "le nom de l'EPCI : communes, QPV, priorités nationales",
                                epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = p_new.add_mutually_exclusive_group(required=True)
    which.add_argument("--siren", metavar="SIREN", help="le SIREN de l'EPCI (9 chiffres), ex. 200042190")
    which.add_argument("--epci", metavar="NOM", help="des mots du nom de l'EPCI, ex. « porte du hainaut »")
    p_new.add_argument("--code", metavar="CODE", help="le code du territoire (nom des fichiers) ; par défaut le sigle "
                                                      "de l'EPCI en minuscules (caph)")
    _config_option(p_new)
    p_new.add_argument("--force", action="store_true", help="remplacer des fichiers déjà présents")
    p_new.set_defaults(func=territoire_nouveau)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:  # the last resort: whatever escaped, the steward gets French and a journal
        return _unexpected(args, exc)


if __name__ == "__main__":
    sys.exit(main())
