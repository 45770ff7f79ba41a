"""The Pulumi program (``__main__.py``), installed with glacier so generated projects can
copy it (``glacier.deploy.generate``)."""
