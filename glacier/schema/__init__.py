"""Schema contracts on the backend side: derive every dataset's schema before a run
(``derive``) and read declarations from existing files (``infer``). Both import Polars;
the pure schema model is ``glacier.dag.schema``."""
