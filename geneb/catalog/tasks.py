"""Task specs (the 100 GENEB tasks and the built-in mini suite) and named benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from ..errors import NotFound
from ._files import CatalogError, data_path, read_csv, read_mapping_file, read_toml
from .categories import category_order, published_task_counts


@dataclass(frozen=True)
class TaskSpec:
    """One classification task. `index` is its 1-based position in its suite's official order."""

    task_id: str
    label: str
    category: str
    source_collection: str
    suite: str  # "geneb", "mini" or "user"
    index: int
    simulated: bool = False
    provenance: str = ""


@dataclass(frozen=True)
class Benchmark:
    """A named, ordered collection of tasks."""

    name: str
    description: str
    task_ids: tuple[str, ...]
    dataset: str = ""
    revision: str = ""
    extra: dict = field(default_factory=dict, compare=False)


def _load_task_table(path: Path, suite: str) -> list[TaskSpec]:
    cats = set(category_order())
    out: list[TaskSpec] = []
    seen: set[str] = set()
    for i, row in enumerate(read_csv(path), start=1):
        tid = (row.get("task_id") or "").strip()
        if not tid:
            raise CatalogError(f"{path}: row {i}: empty task_id")
        if tid in seen:
            raise CatalogError(f"{path}: row {i}: duplicate task id {tid!r}")
        if row.get("category") not in cats:
            raise CatalogError(
                f"{path}: task {tid!r}: unknown category {row.get('category')!r} "
                f"(known: {', '.join(category_order())})"
            )
        seen.add(tid)
        out.append(
            TaskSpec(
                task_id=tid,
                label=row.get("label") or tid,
                category=row["category"],
                source_collection=row.get("source_collection", ""),
                suite=suite,
                index=i,
                simulated=(row.get("simulated", "false").strip().lower() == "true"),
                provenance=row.get("provenance", ""),
            )
        )
    return out


@cache
def geneb_tasks() -> tuple[TaskSpec, ...]:
    """The 100 published GENEB tasks in official order (validated against the category counts)."""
    tasks = tuple(_load_task_table(data_path("tasks.csv"), "geneb"))
    counts: dict[str, int] = {}
    for t in tasks:
        counts[t.category] = counts.get(t.category, 0) + 1
    if counts != published_task_counts():
        raise CatalogError(f"tasks.csv: category counts {counts} differ from the published ones")
    return tasks


@cache
def mini_tasks() -> tuple[TaskSpec, ...]:
    """The built-in mini suite (data files ship in geneb/data/mini, rebuilt by scripts/build_mini.py)."""
    path = data_path("mini_tasks.csv")
    if not path.exists():
        return ()
    return tuple(_load_task_table(path, "mini"))


_user_tasks: dict[str, TaskSpec] = {}
_user_benchmarks: dict[str, Benchmark] = {}


def all_tasks() -> dict[str, TaskSpec]:
    """Every known task by id: GENEB, mini, then user-registered ones."""
    out: dict[str, TaskSpec] = {}
    for t in (*geneb_tasks(), *mini_tasks(), *_user_tasks.values()):
        out[t.task_id] = t
    return out


def get_task(task_id: str) -> TaskSpec:
    tasks = all_tasks()
    if task_id not in tasks:
        raise NotFound(f"unknown task id {task_id!r}; see `geneb tasks` for the known ids")
    return tasks[task_id]


def register_task(spec: TaskSpec) -> None:
    """Declare a task outside the package (e.g. from `--data DIR`)."""
    _user_tasks[spec.task_id] = spec


@cache
def _builtin_benchmarks() -> dict[str, Benchmark]:
    raw = read_toml(data_path("benchmarks.toml"))
    out = {}
    for name, b in raw.items():
        src = b.get("source")
        if src == "geneb":
            pool = [t.task_id for t in geneb_tasks()]
        elif src == "mini":
            pool = [t.task_id for t in mini_tasks()]
        else:
            raise CatalogError(f"benchmarks.toml: [{name}]: unknown source {src!r}")
        ids = pool if b.get("tasks", "*") == "*" else list(b["tasks"])
        out[name] = Benchmark(
            name=name,
            description=b.get("description", ""),
            task_ids=tuple(ids),
            dataset=b.get("dataset", ""),
            revision=b.get("revision", ""),
        )
    return out


def load_benchmark_file(path: str | Path) -> list[Benchmark]:
    """Register user-defined benchmarks from a TOML/YAML file: `[name] tasks = [ids...]`."""
    raw = read_mapping_file(Path(path))
    known = all_tasks()
    out = []
    for name, b in raw.items():
        if not isinstance(b, dict) or "tasks" not in b:
            raise CatalogError(f"{path}: benchmark {name!r}: needs a `tasks` list")
        for tid in b["tasks"]:
            if tid not in known:
                raise CatalogError(f"{path}: benchmark {name!r}: unknown task id {tid!r}")
        bm = Benchmark(name=name, description=b.get("description", ""), task_ids=tuple(b["tasks"]))
        _user_benchmarks[name] = bm
        out.append(bm)
    return out


def benchmarks() -> dict[str, Benchmark]:
    return {**_builtin_benchmarks(), **_user_benchmarks}


def get_benchmark(name: str) -> Benchmark:
    bms = benchmarks()
    if name not in bms:
        raise NotFound(f"unknown benchmark {name!r}; known: {', '.join(bms)}")
    return bms[name]
