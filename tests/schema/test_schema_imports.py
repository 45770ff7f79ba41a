"""Import boundaries: the schema model is pure data (no Polars at import), and the derivation,
inference and run-time check run where pulumi, boto3 and botocore cannot be imported (the
definition layer and the Lambda/Glue runtime)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, importlib.machinery, sys

    BLOCKED = {"pulumi", "pulumi_aws", "boto3", "botocore", "click", "rich", "moto"}

    class Blocker(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                return importlib.machinery.ModuleSpec(name, self)
            return None

        def create_module(self, spec):
            raise ImportError(spec.name)

        def exec_module(self, module):
            raise ImportError(module.__name__)

    sys.meta_path.insert(0, Blocker())
    import glacier.dag.schema
    assert "polars" not in sys.modules, "glacier.dag.schema imported polars"
    import glacier.runtime.schema_check
    import glacier.schema.derive
    import glacier.schema.infer
    print("ok")
    """
)


def test_schema_modules_import_without_deploy_packages() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
