"""soe_lib: the library behind the S&OE workbench's notebooks, meeting app and weekly run.

Subpackages mirror the weekly cycle; data flows one way (docs/architecture.md):

    inputs -> io (validated snapshot) -> sensing -> supply -> finance -> outputs/<week>/ -> app (review)

- :mod:`soe_lib.core`: weeks, the input and output contracts, parameter declarations, paths, the matrix;
- :mod:`soe_lib.io`: reading and validating inputs, the run's snapshot, result tables, the archive, data health;
- :mod:`soe_lib.sensing`, :mod:`soe_lib.supply`, :mod:`soe_lib.finance`: the engines of steps 2-4, which
  meet only through declared tables and never import each other;
- :mod:`soe_lib.run`: parameters, the steps in order, the Papermill runner;
- :mod:`soe_lib.app`: the review app, charts and the decision log;
- :mod:`soe_lib.sample`: the built-in sample company; :mod:`soe_lib.cli`: the ``soe`` command.
"""

from importlib import metadata

try:
    __version__ = metadata.version("soe-workbench")
except metadata.PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0+unknown"
