"""The families, in the vocabulary's `familles` order (the order the data's path needs: programmation before
what refers to it), each built from its contract YAML (config/contrats/) and, when it has one, its Python module
`assets/staging/<famille>.py` (`prepare`, `row_rules`, `set_rules`: the rules a column attribute cannot say).

A family's code version changes with its contract, the shared rules and the source of the code its rules run:
it is the staging asset's Dagster `code_version` and part of the read cache key."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

from core import common as common_module
from core.common import code_version
from core.config.base import ConfigurationError
from core.config.contrats import REGLES_COMMUNES
from core.config.projet import ProjectConfig
from core.familles import contract as contract_module
from core.familles import family as family_module
from core.familles import reading as reading_module
from core.familles.contract import TableContract
from core.familles.family import Family

HOOKS = ("prepare", "row_rules", "set_rules")
# the staging machinery every family's rules run through
MACHINERY: tuple[ModuleType, ...] = (reading_module, contract_module, family_module, common_module)


def _family_module(name: str) -> ModuleType | None:
    spec = importlib.util.find_spec(f"{__package__}.{name}")
    if spec is None:
        return None
    module = importlib.import_module(spec.name)
    if not any(callable(getattr(module, h, None)) for h in HOOKS):
        raise ConfigurationError(f"{module.__file__} : le module de la famille « {name} » ne définit aucune de "
                                 f"{', '.join(HOOKS)} (nom réservé à la mécanique du staging ?)")
    return module


def rules_in_code(path: Path) -> dict[str, int]:
    """Rule codes written as literals in the `flag(...)` calls of a module, with their first line."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name != "flag":
            continue
        arg = node.args[3] if len(node.args) > 3 else next((k.value for k in node.keywords if k.arg == "rule"), None)
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.setdefault(arg.value, node.lineno)
    return found


def _check_rules(name: str, known: set[str], own: set[str], contract_path: Path, module: ModuleType | None,
                 shared_path: Path) -> None:
    """Every rule code the code emits is declared in the YAML; every rule of the family's own is applied."""
    used: set[str] = set()
    for source in [m for m in (*MACHINERY, module) if m is not None]:
        for code, line in rules_in_code(Path(str(source.__file__))).items():
            if code not in known:
                raise ConfigurationError(f"{source.__file__}, ligne {line} : règle « {code} » utilisée par le code "
                                         f"mais déclarée ni dans {contract_path} (`regles`) ni dans {shared_path}")
            used.add(code)
    unused = sorted(own - used)
    if unused:
        where = module.__file__ if module else f"aucun module core/familles/{name}.py"
        raise ConfigurationError(f"{contract_path} : configuration invalide\n" + "\n".join(
            f"  - clé `regles.{code}` : règle propre à la famille qu'aucun code n'applique ({where})"
            for code in unused))


def build_families(config: ProjectConfig) -> dict[str, Family]:
    contrats, vocabulaire = config.contrats, config.vocabulaire
    shared_path = config.dir / "contrats" / REGLES_COMMUNES
    families: dict[str, Family] = {}
    for name, contrat in contrats.familles.items():
        module = _family_module(name)
        rules = contrats.regles(name)
        _check_rules(name, set(rules), set(contrat.regles), contrats.fichiers[name], module, shared_path)
        tables = tuple(TableContract.from_contrat(t, vocabulaire) for t in contrat.tables)
        # the resolved contract (vocabulary lists included), not the YAML's bytes: a comment does not bump it, nor
        # does the mart's description (read by the marts, not by staging)
        payload = {"famille": name, "contrat": contrat.model_dump(mode="json", exclude={"mart"}),
                   "regles": {k: r.model_dump(mode="json") for k, r in rules.items()},
                   "choix": {t.name: {c.name: c.choices for c in t.columns if c.choices} for t in tables}}
        sources = [Path(str(m.__file__)) for m in (*MACHINERY, module) if m is not None]
        families[name] = Family(
            name=name, tables=tables, version=code_version(*sources, payload=payload), rules=rules,
            description=contrat.description, depends_on=tuple(contrat.depend_de),
            **{h: getattr(module, h, None) for h in HOOKS},
        )
    return families


FAMILIES: dict[str, Family] = build_families(ProjectConfig())


def family_of(file_name: str, families: dict[str, Family] | None = None) -> Family | None:
    """A file's family is the start of its name; the longest match wins (`bilans_actions` before `bilan`)."""
    families = FAMILIES if families is None else families
    lower = file_name.lower()
    for name in sorted(families, key=len, reverse=True):
        if lower.startswith(name):
            return families[name]
    return None
