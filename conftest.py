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


def _kernels_over_ipc() -> None:
    """The notebooks nbval runs talk to their kernels over Unix sockets, as every kernel of the workbench
    does (soe_lib.run.execute.ipc_kernel_manager, the review server's --KernelManager.transport=ipc): no
    TCP port to collide with another test's kernel. nbval has no option for it: its kernel manager is
    given the transport and a private folder for the sockets."""
    import atexit
    import shutil

    import nbval.kernel
    from jupyter_client.manager import KernelManager

    folders: list[str] = []

    def ipc_manager(**kwargs):
        folders.append(tempfile.mkdtemp(prefix="soe-k-"))
        return KernelManager(transport="ipc", ip=os.path.join(folders[-1], "kernel"), **kwargs)

    nbval.kernel.KernelManager = ipc_manager
    atexit.register(lambda: [shutil.rmtree(f, ignore_errors=True) for f in folders])


_kernels_over_ipc()
