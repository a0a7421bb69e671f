"""The click group and the entry point: errors are rendered here, once."""
from __future__ import annotations

import os
import sys
from typing import Sequence

import click

from ..errors import ArchcalcError
from .common import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="archcalc")
def cli() -> None:
    """archcalc: what a convolutional network costs, before anyone trains it.

    \b
    Examples:
      archcalc summary vgg16
      archcalc summary alexnet --format json
      archcalc compare vgg16 alexnet
      archcalc conv --n 227 --f 11 --s 4 --p 0
    """


# ---------------------------------------------------------------- entry point
def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status. Errors are rendered here, once."""
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="archcalc", standalone_mode=False)
        return result if isinstance(result, int) else EXIT_OK
    except ArchcalcError as e:
        click.echo(f"archcalc: error: {e}", err=True)
        return e.exit_code
    except click.exceptions.NoArgsIsHelpError as e:  # pragma: no cover - click ≥ 8.2
        click.echo(e.format_message(), err=True)
        return EXIT_BAD_INPUT
    except click.ClickException as e:
        e.show()
        return EXIT_BAD_INPUT
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        click.echo("archcalc: aborted", err=True)
        return 1
    except (RecursionError, MemoryError):
        click.echo("archcalc: error: the input is too deeply nested or too large to analyse", err=True)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug in archcalc, not in the input: say so in one line
        if os.environ.get("ARCHCALC_DEBUG"):
            raise
        click.echo(f"archcalc: internal error: {type(e).__name__}: {e} (set ARCHCALC_DEBUG=1 for a traceback; "
                   f"please report it)", err=True)
        return EXIT_INTERNAL


def entry() -> None:
    sys.exit(main())
