"""`python -m benchmarks --sizes 1000,10000 --repeat 3`: see BENCHMARKS.md."""

from benchmarks.run import main

raise SystemExit(main())
