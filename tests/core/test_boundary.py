"""cnn_core stays free of Streamlit: the views import the maths, never the other way round."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import importlib, pkgutil, sys
import cnn_core
assert 'tensorflow' not in sys.modules, 'import cnn_core is lazy: the command line checks paths first'
import cnn_core.pipeline
assert 'tensorflow' in sys.modules, 'the check must load the real core'
assert 'streamlit' not in sys.modules, 'import cnn_core pulled in streamlit'
for m in pkgutil.iter_modules(cnn_core.__path__):
    if m.name != '__main__':
        importlib.import_module('cnn_core.' + m.name)
bad = sorted(n for n in sys.modules if n == 'streamlit' or n.startswith('streamlit.'))
assert not bad, bad
print('ok', len(list(pkgutil.iter_modules(cnn_core.__path__))))
"""


def test_cnn_core_never_imports_streamlit():
    r = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("ok ") and int(r.stdout.split()[1]) >= 6
