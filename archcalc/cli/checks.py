"""check and verify: the slides' arithmetic and the NumPy forward pass."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError, did_you_mean
from .app import cli
from .common import EXIT_DISAGREE, EXIT_OK, console, emit, parse_input, parse_sets


@cli.command("check")
@click.argument("files", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--explain", "explain", metavar="ID", help="Print one claim's derivation: computation, reading, verdict.")
@click.option("--coverage", is_flag=True,
              help="The arguments are documents (and .yaml/.yml claim files, default the built-in ones): list each "
                   "document's lines with numbers and the claims that cite them; also checks that every justification "
                   "quotes its document.")
@click.option("--gaps", is_flag=True, help="With --coverage: list only the lines not covered by a claim.")
def check_cmd(files: tuple[str, ...], fmt: str, explain: str | None, coverage: bool, gaps: bool) -> int:
    """Check the numbers stated in documents (slides, articles) against what archcalc computes.

    \b
    FILES are claim files (default: the built-in ones, one per seed document); with
    --coverage, the documents to cover (plus any .yaml/.yml claim files).
    Every stated value is read by one rule: good to its last printed digit, rounded to
    nearest; any other reading is quoted from the document (README "Slide arithmetic").
    Exit status 1 when a verdict is a surprise: a mismatch the claim file does not record,
    or a recorded mistake the computation does not reproduce.
    Examples:
      archcalc check
      archcalc check specs/claims/001_architectures.yaml --format json
      archcalc check --explain s1-vgg-total
      archcalc check --coverage ../shared/seeds/*.txt
    """
    from .. import claims, report

    documents: list[str] = []
    if coverage:
        documents = [f for f in files if not f.lower().endswith((".yaml", ".yml"))]
        files = tuple(f for f in files if f not in documents)
        if not documents:
            raise UsageError("check --coverage needs at least one DOCUMENT (the text the claims come from)")
    files_ = claims.load_files(list(files) or None)
    if coverage:
        docs = {path: claims.read_document(path) for path in documents}
        claims.verify_quotes(files_, {Path(p).name: t for p, t in docs.items()})
        covs = [claims.coverage(p, t, files_) for p, t in docs.items()]
        if fmt == "json":
            emit(report.dumps(report.coverage_json(covs)))
        else:
            click.echo(report.coverage_text(covs, show_all=not gaps))
        return EXIT_OK
    result = claims.run(files_)
    if explain is not None:
        found = claims.find(explain, result)
        if found is None:
            ids = [r.claim.id for r in result.results]
            raise UsageError(f"no claim with id `{explain}`{did_you_mean(explain, ids)}")
        if fmt == "json":
            emit(report.dumps(found.as_dict()))
        else:
            click.echo(report.explain_text(found))
        return EXIT_OK if not found.surprise else EXIT_DISAGREE
    if fmt == "json":
        emit(report.dumps(report.claims_json(result)))
    else:
        report.claims_table(result, console())
    return EXIT_OK if result.ok else EXIT_DISAGREE


@cli.command("verify")
@click.argument("spec", required=False)
@click.option("--all", "all_", is_flag=True, help="Verify every built-in spec and preset.")
@click.option("--input", "input_", metavar="N|HxW|CxHxW", help="Input size (numbers only).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec variable (repeatable).")
@click.option("--batch", type=click.IntRange(1), default=1, show_default=True, help="Batch size.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True, help="Seed of the input and the weights.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def verify_cmd(spec: str | None, all_: bool, input_: str | None, sets: tuple[str, ...], batch: int, seed: int,
               fmt: str) -> None:
    """Run the NumPy forward pass and check every layer's shape and weight count.

    \b
    Each layer's real output shape must equal the computed one, and the elements of the
    weight arrays the forward pass creates must equal its params + buffers.
    Exit status 1 on any disagreement.
    Examples:
      archcalc verify vgg16
      archcalc verify mobilenet_v1 --set alpha=0.5 --input 160
      archcalc verify --all
    """
    import time

    from .. import catalog, report, verification

    if all_ == (spec is not None):
        raise UsageError("verify takes one SPEC or --all")
    if all_:
        if input_ or sets:
            raise UsageError("--input and --set apply to one SPEC, not to --all")
        names = sorted(catalog.entries())
        start, rows = time.perf_counter(), []
        err = __import__("rich.console", fromlist=["Console"]).Console(stderr=True)
        if err.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            with Progress(TextColumn("verify {task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err, transient=True) as progress:
                task = progress.add_task(names[0], total=len(names))
                for i, row in enumerate(verification.verify_many(names, batch, seed)):
                    rows.append(row)
                    progress.update(task, advance=1, description=names[min(i + 1, len(names) - 1)])
        else:
            rows = list(verification.verify_many(names, batch, seed))
        seconds = time.perf_counter() - start
        if fmt == "json":
            emit(report.dumps(report.verify_all_json(rows, seconds)))
        else:
            report.verify_all_table(rows, seconds, console())
        ok = all(r.ok for r in rows)
    else:
        assert spec is not None
        v = verification.verify_name(spec, parse_sets(sets), parse_input(input_), batch, seed)
        if fmt == "json":
            emit(report.dumps(report.verify_json(v)))
        else:
            report.verify_table(v, console())
        ok = v.ok
    if not ok:
        raise click.exceptions.Exit(EXIT_DISAGREE)
