"""The click group, where each command lives, and `invoke`: click's own outcomes as exit statuses.

One module per group of commands; each registers its commands on `cli`. A new command goes in a module
of its own and one `cli.register` line here naming its commands: the module is imported only when one of
them runs (or for --help and completion), so a command pays for no other.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from ..errors import printable
from .common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_PIPE
from .launch import silence_stdout


class LazyGroup(click.Group):
    """A group whose commands are imported on first use: `summary` loads only the module that defines it.
    `register` names each module's commands; help, completion and "did you mean" still see them all."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}   # command name → the module (in archcalc.cli) that defines it

    def register(self, module: str, *names: str) -> None:
        for name in names:
            self.lazy[name] = module

    def load_all(self) -> None:
        for module in sorted(set(self.lazy.values())):
            importlib.import_module(f"{__package__}.{module}")

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            if cmd_name in self.lazy:
                importlib.import_module(f"{__package__}.{self.lazy[cmd_name]}")
            else:
                self.load_all()   # an unknown name: click suggests close matches from every command
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


cli.register("tables", "list", "summary", "compare", "scale")
cli.register("checks", "check", "verify")
cli.register("diagram", "diagram", "report")
cli.register("formulas", "formula", "conv")
cli.register("latency", "latency", "device")
cli.register("memory", "memory")
cli.register("plotting", "plot")


def invoke(args: list[str]) -> int:
    """Run the click group on `args`. Usage errors, --help, --version and click's Abort become exit statuses
    here; archcalc's own errors go up to `launch.main`, which renders them for every path alike."""
    try:
        result = cli.main(args=args, prog_name="archcalc", standalone_mode=False)
        return result if isinstance(result, int) else EXIT_OK
    except click.exceptions.NoArgsIsHelpError as e:  # pragma: no cover - click ≥ 8.2
        click.echo(e.format_message(), err=True)
        return EXIT_BAD_INPUT
    except click.ClickException as e:
        e.message = printable(e.message, one_line=True)
        e.show()
        return EXIT_BAD_INPUT
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        silence_stdout()
        return EXIT_INTERRUPTED
    except SystemExit as e:
        # click answers a closed stdout (EPIPE) with sys.exit(1) after pacifying the streams
        if isinstance(sys.stdout, click.utils.PacifyFlushWrapper) or isinstance(e.__context__, BrokenPipeError):
            silence_stdout()
            return EXIT_PIPE
        raise
