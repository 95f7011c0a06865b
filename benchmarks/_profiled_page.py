"""The page under test, run inside AppTest's script thread so that pyinstrument sees it (see profiling.py)."""

from benchmarks import profiling

profiling.run_page()
