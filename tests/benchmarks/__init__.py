"""Benchmarks: figures and ratios measured in one run, each with its goal (``make bench``).

Not part of CI: timings depend on the machine, so the gate stays deterministic and these only
inform. Run ``python -m tests.benchmarks [--quick] [name ...]``; ``--list`` shows the names.

Adding a benchmark: create a module here (no leading underscore) with a function decorated by
``@benchmark("name", "what it measures")`` that takes a :class:`~tests.benchmarks._core.Run` and
returns a list of :class:`~tests.benchmarks._core.Row`. A row with a ``goal`` appears in the
summary as MET / NOT MET; ``run.diagnostic(title, lines)`` attaches free-form text.
"""
