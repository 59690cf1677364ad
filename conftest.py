"""Test-session isolation, shared by tests/ and the nbval run over notebooks/.

Set before any kernel starts (kernels inherit the environment): outputs, the generated sample
company and Jupyter's own state go to a per-session temp folder, never to the developer's tree or $HOME.
"""

import os
import tempfile
from pathlib import Path

_ROOT = Path(tempfile.mkdtemp(prefix="soe-tests-"))
for _var, _sub in {
    "SOE_OUTPUTS": "outputs",
    "SOE_SAMPLE_DIR": "sample",
    "JUPYTER_CONFIG_DIR": "jupyter/config",
    "JUPYTER_DATA_DIR": "jupyter/data",
    "JUPYTER_RUNTIME_DIR": "jupyter/runtime",
    "IPYTHONDIR": "ipython",
    "XDG_CONFIG_HOME": "xdg/config",
    "XDG_CACHE_HOME": "xdg/cache",
}.items():
    (_ROOT / _sub).mkdir(parents=True, exist_ok=True)
    os.environ[_var] = str(_ROOT / _sub)
os.environ.setdefault("MPLBACKEND", "Agg")
