import subprocess
import sys


def test_import_bplib_and_the_numpy_core_load_no_plotting_or_widgets():
    code = ("import sys, bplib\n"
            "from bplib import autograd, layers, losses, init, network, optim, gradcheck, data, train\n"
            "heavy = [m for m in ('matplotlib', 'ipywidgets', 'tqdm') if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_submodules_are_reachable_from_the_package():
    import bplib

    assert bplib.layers.Linear and bplib.gradcheck.numerical_gradient
    assert "layers" in dir(bplib)
