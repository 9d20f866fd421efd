"""Run the side-by-side benchmarks of :mod:`backprop.benchmark` from the repository's root.

::

    python benchmarks/run.py [--rounds 5] [--task2-rounds 3] [--json results.json]
"""

import sys

from backprop.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
