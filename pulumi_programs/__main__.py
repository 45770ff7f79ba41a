"""The Pulumi program: deploy the pipelines of the modules named in ``glacier:pipelines``.

    pulumi config set --path 'glacier:pipelines[0]' examples/seed_000/core_single_source.py
    pulumi preview

Each pipeline becomes one ``glacier:aws:PipelineDeployment`` component; its state machine
ARN, bucket names, function and job names are the stack's outputs (one object per pipeline).
"""

from __future__ import annotations

import pulumi

from glacier.deploy.program import declare, read_config

for _pipeline, _outputs in declare(read_config()).items():
    pulumi.export(_pipeline, _outputs)
