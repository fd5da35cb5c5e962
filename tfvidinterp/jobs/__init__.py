"""The jobs behind the binaries: `binaries/<name>.py` calls `jobs.<name>.run`.

Jobs import the core (`data`, `models`, `interp`, `measures`, `report`) and
each other only downward (`tests/layering_test.py`); nothing in the core
imports a job. `rundir` and `resultsdir` own the on-disk formats of a run
and of explain's results, `stages` the demo's state file.
"""
